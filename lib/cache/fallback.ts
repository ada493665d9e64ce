/**
 * The remote cache behind a per-call time budget and a circuit breaker, with the in-memory store as
 * the fallback: if Redis is unavailable the application keeps working from memory and no error
 * reaches a user (docs/cache.md, "Outages never fail a request").
 *
 * Failure policy — fail to memory, never fail closed:
 *  - A remote call that fails or exceeds its budget (default 150 ms) is served from memory; the
 *    caller never sees the outage. Failing closed (rejecting) would turn a cache outage into a chat
 *    outage; failing fully open would drop rate limiting. Memory keeps limiting per process.
 *  - After `failureThreshold` consecutive failures the circuit opens: calls go straight to memory
 *    (no budget spent on a dead remote) and one background ping probes the remote every
 *    `probeIntervalMs`. When a probe answers in budget the circuit closes and memory is cleared, so
 *    values written during the outage cannot resurface in a later one.
 *  - A command the server refuses (`rejected`: WRONGTYPE, not an integer) or an invalid call is the
 *    caller's bug, not an outage: it is thrown, and the remote counts as healthy.
 * What is lost while degraded: values cached only in the remote (reads miss) and cross-instance rate
 * limits (each process limits alone). Both are acceptable for an ephemeral tier.
 */
import { cacheDefaults } from '@/lib/config';
import { createLogger, type Logger } from '@/lib/log';
import { BatchStore } from './batch-store';
import { CacheError } from './errors';
import type { MemoryStore } from './memory';
import type { CacheKind, CacheOp, CacheStore } from './types';

export interface CacheState {
  /** The configured backend. */
  kind: CacheKind;
  /** True while calls are served from memory because the remote is unreachable. */
  degraded: boolean;
  /** When the current state began (ISO 8601). */
  since: string;
}

export interface FallbackOptions {
  /** Budget of one remote call before it is served from memory. @default 150 */
  timeoutMs?: number;
  /** Consecutive remote failures that open the circuit. @default 3 */
  failureThreshold?: number;
  /** While the circuit is open, how often the remote is probed. @default 30000 */
  probeIntervalMs?: number;
  /** Clock for state timestamps and probe scheduling (tests inject one). @default Date.now */
  now?: () => number;
  /** @default createLogger('cache') */
  logger?: Logger;
}

function withTimeout<T>(promise: Promise<T>, ms: number, backend: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CacheError('unavailable', `[omniops] [cache] ${backend} timed out after ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

export class FallbackCache extends BatchStore {
  readonly kind: CacheKind;
  private readonly timeoutMs: number;
  private readonly failureThreshold: number;
  private readonly probeIntervalMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  private failures = 0;
  private degraded = false;
  private since: number;
  private nextProbeAt = 0;
  private probing: Promise<boolean> | undefined;

  constructor(
    /** The configured remote; `undefined` when the cache is memory only. */
    private readonly remote: CacheStore | undefined,
    readonly memory: MemoryStore,
    options: FallbackOptions = {},
  ) {
    super();
    this.kind = remote?.kind ?? 'memory';
    this.timeoutMs = options.timeoutMs ?? cacheDefaults.timeoutMs;
    this.failureThreshold = options.failureThreshold ?? cacheDefaults.failureThreshold;
    this.probeIntervalMs = options.probeIntervalMs ?? cacheDefaults.probeIntervalMs;
    this.now = options.now ?? Date.now;
    this.log = options.logger ?? createLogger('cache');
    this.since = this.now();
  }

  state(): CacheState {
    return { kind: this.kind, degraded: this.degraded, since: new Date(this.since).toISOString() };
  }

  protected run(ops: readonly CacheOp[]): Promise<unknown[]> {
    return this.call((store) => store.batch(ops));
  }

  /** Resolves when the remote answers, or — degraded — when memory does: it never reports an outage. */
  async ping(): Promise<void> {
    await this.call((store) => store.ping());
  }

  /**
   * Ping the remote now (at most one probe at a time); closes the circuit when it answers within the
   * budget. Resolves to whether the remote answered. Runs by itself every `probeIntervalMs` while
   * degraded, triggered by calls; tests and health checks may call it directly.
   */
  probe(): Promise<boolean> {
    const remote = this.remote;
    if (!remote) return Promise.resolve(false);
    this.probing ??= withTimeout(remote.ping(), this.timeoutMs, remote.kind)
      .then(
        () => {
          this.failures = 0;
          if (this.degraded) this.recover();
          return true;
        },
        () => {
          this.nextProbeAt = this.now() + this.probeIntervalMs;
          return false;
        },
      )
      .finally(() => {
        this.probing = undefined;
      });
    return this.probing;
  }

  async close(): Promise<void> {
    await Promise.all([this.remote?.close(), this.memory.close()]);
  }

  private async call<T>(fn: (store: CacheStore) => Promise<T>): Promise<T> {
    const remote = this.remote;
    if (!remote) return fn(this.memory);
    if (this.degraded) {
      if (this.now() >= this.nextProbeAt) void this.probe();
      return fn(this.memory);
    }
    try {
      const result = await withTimeout(fn(remote), this.timeoutMs, remote.kind);
      this.failures = 0;
      return result;
    } catch (error) {
      if (!(error instanceof CacheError) || error.reason !== 'unavailable') {
        this.failures = 0; // the remote answered: it is up, the call was wrong
        throw error;
      }
      this.recordFailure(error);
      return fn(this.memory);
    }
  }

  private recordFailure(error: CacheError): void {
    this.failures += 1;
    if (this.degraded || this.failures < this.failureThreshold) return;
    this.degraded = true;
    this.since = this.now();
    this.nextProbeAt = this.since + this.probeIntervalMs;
    this.log.warn(
      `${this.kind} unavailable: serving from memory (per-process) and probing every ${this.probeIntervalMs / 1000} s`,
      { consecutiveFailures: this.failures, error: error.message },
    );
  }

  private recover(): void {
    const downSeconds = Math.round((this.now() - this.since) / 100) / 10;
    this.degraded = false;
    this.since = this.now();
    // Values written during the outage would otherwise resurface in the next one.
    this.memory.clear();
    this.log.info(`${this.kind} is back after ${downSeconds} s: serving from it again`);
  }
}
