/**
 * Faults of the remote cache, staged on the real clients against the real Redis: unreachable from
 * the start, partitioned mid-run (requests hang), gone mid-run (connections refused), and back again.
 * Every call must still answer — from memory — and the wrapper must recover without a restart.
 *
 * Time bounds here are deliberately loose ("answers within 1 s" while the budget is 150 ms): they
 * prove that no call waits for the dead remote (which would take seconds or forever) without
 * measuring speed on a loaded 2-core CI machine. Speed is measured in bench/cache.ts. The probe
 * interval is the real default (30 s); tests move an injected clock instead of waiting for it.
 */
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { checkRateLimit } from '@/lib/cache/rate-limit';
import { FallbackCache } from '@/lib/cache/fallback';
import { MemoryStore } from '@/lib/cache/memory';
import { createRedisStore } from '@/lib/cache/redis';
import { createUpstashStore } from '@/lib/cache/upstash';
import type { CacheStore } from '@/lib/cache/types';
import { deleteKeys, recordingLogger, uniquePrefix, viaPort } from '../support/cache';
import { freePort } from '../support/services';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startUpstashBridge, type UpstashBridge } from '../support/upstash-bridge';

const BUDGET_MS = 150;
const PROBE_INTERVAL_MS = 30_000;
/** Far above the budget, far below what waiting for a dead remote costs. */
const ANSWERS_WITHIN_MS = 1000;

const prefix = uniquePrefix('fallback');

/** A remote cache behind faults the test controls. */
interface Remote {
  store: CacheStore;
  /** Stop forwarding: requests hang. */
  partition(): void;
  heal(): void;
  /** The server goes away: connections are refused. */
  goAway(): Promise<void>;
  comeBack(): Promise<void>;
  dispose(): Promise<void>;
}

const remotes: Record<'redis' | 'upstash', (redisUrl: string) => Promise<Remote>> = {
  redis: async (redisUrl) => {
    const target = new URL(redisUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const store = createRedisStore(viaPort(redisUrl, proxy.port), { keyPrefix: `${prefix}redis:`, connectTimeoutMs: 500 });
    return {
      store,
      partition: () => proxy.pause(),
      heal: () => proxy.resume(),
      goAway: () => proxy.cut(),
      comeBack: () => proxy.restore(),
      async dispose() {
        await store.close();
        await proxy.close();
      },
    };
  },
  upstash: async (redisUrl) => {
    // Bridge → proxy → Redis: the proxy partitions the bridge from Redis (HTTP requests hang); the
    // bridge itself stops and restarts on its port (HTTP connections refused).
    const target = new URL(redisUrl);
    const proxy: TcpProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const behind = viaPort(redisUrl, proxy.port);
    let bridge: UpstashBridge = await startUpstashBridge({ redisUrl: behind });
    const port = Number(new URL(bridge.url).port);
    const store = createUpstashStore({ url: bridge.url, token: bridge.token }, { keyPrefix: `${prefix}upstash:`, requestTimeoutMs: 500 });
    return {
      store,
      partition: () => proxy.pause(),
      heal: () => proxy.resume(),
      goAway: () => bridge.close(),
      async comeBack() {
        bridge = await startUpstashBridge({ redisUrl: behind, port, token: bridge.token });
      },
      async dispose() {
        await bridge.close();
        await proxy.close();
      },
    };
  },
};

/** A remote on a port where nothing listens. */
async function unreachable(kind: 'redis' | 'upstash'): Promise<CacheStore> {
  const port = await freePort();
  return kind === 'redis'
    ? createRedisStore(`redis://127.0.0.1:${port}`, { connectTimeoutMs: 500 })
    : createUpstashStore({ url: `http://127.0.0.1:${port}`, token: 'unused' }, { requestTimeoutMs: 500 });
}

function wrap(remote: CacheStore) {
  const clock = { now: Date.parse('2026-11-22T10:00:00Z') };
  const logger = recordingLogger();
  const cache = new FallbackCache(remote, new MemoryStore({ maxEntries: 1000, maxBytes: 1 << 20 }), {
    timeoutMs: BUDGET_MS,
    failureThreshold: 3,
    probeIntervalMs: PROBE_INTERVAL_MS,
    now: () => clock.now,
    logger,
  });
  return { cache, clock, logger };
}

/** Run `fn`, failing the test if it takes longer than ANSWERS_WITHIN_MS; returns its result. */
async function answersPromptly<T>(fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  expect(performance.now() - started).toBeLessThan(ANSWERS_WITHIN_MS);
  return result;
}

/** Let the breaker's background probe run once: move the clock past the interval and make a call. */
async function probeAfterInterval(ctx: ReturnType<typeof wrap>): Promise<void> {
  ctx.clock.now += PROBE_INTERVAL_MS;
  await ctx.cache.probe();
}

afterAll(async () => {
  await deleteKeys(inject('redisUrl'), prefix);
});

describe.each(['redis', 'upstash'] as const)('cache fallback over %s', (kind) => {
  const disposables: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (disposables.length > 0) await disposables.pop()!();
  });

  it('serves every call from memory when the remote is unreachable from the start', async () => {
    const ctx = wrap(await unreachable(kind));
    disposables.push(() => ctx.cache.close());
    expect(ctx.cache.state()).toMatchObject({ kind, degraded: false });

    for (let i = 0; i < 20; i++) {
      await answersPromptly(() => ctx.cache.set(`k${i}`, `v${i}`, 60_000));
      expect(await answersPromptly(() => ctx.cache.get(`k${i}`))).toBe(`v${i}`);
    }
    expect(await answersPromptly(() => ctx.cache.increment('n', 60_000))).toMatchObject({ value: 1 });
    await answersPromptly(() => ctx.cache.ping());

    expect(ctx.cache.state()).toEqual({ kind, degraded: true, since: '2026-11-22T10:00:00.000Z' });
    // One line for the transition, not one per call.
    expect(ctx.logger.lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(ctx.logger.lines[0]).toMatch(new RegExp(`^warn ${kind} unavailable: serving from memory`));

    // Probing a remote that is still down keeps it degraded and logs nothing more.
    await probeAfterInterval(ctx);
    expect(ctx.cache.state().degraded).toBe(true);
    expect(ctx.logger.lines).toHaveLength(1);
  });

  it.each(['partitioned (requests hang)', 'gone (connections refused)'] as const)(
    'keeps answering from memory while the remote is %s, and recovers without a restart',
    async (fault) => {
      const remote = await remotes[kind](inject('redisUrl'));
      const ctx = wrap(remote.store);
      disposables.push(() => remote.dispose(), () => ctx.cache.close());

      await ctx.cache.set('before', 'remote value', 60_000);
      expect(await ctx.cache.get('before')).toBe('remote value');
      expect(ctx.cache.state().degraded).toBe(false);

      ctx.clock.now += 60_000;
      if (fault.startsWith('partitioned')) remote.partition();
      else await remote.goAway();

      for (let i = 0; i < 10; i++) {
        // The remote's value is out of reach: a miss, not an error.
        expect(await answersPromptly(() => ctx.cache.get('before'))).toBeNull();
        await answersPromptly(() => ctx.cache.set('during', `memory ${i}`, 60_000));
        expect(await answersPromptly(() => ctx.cache.get('during'))).toBe(`memory ${i}`);
      }
      expect(ctx.cache.state()).toEqual({ kind, degraded: true, since: '2026-11-22T10:01:00.000Z' });
      expect(ctx.logger.lines).toHaveLength(1);

      if (fault.startsWith('partitioned')) remote.heal();
      else await remote.comeBack();
      // node-redis reconnects in the background (backing off up to 2 s): probe until it answers.
      await expect
        .poll(
          async () => {
            await probeAfterInterval(ctx);
            return ctx.cache.state().degraded;
          },
          { timeout: 10_000, interval: 100 },
        )
        .toBe(false);

      expect(ctx.cache.state()).toEqual({ kind, degraded: false, since: expect.any(String) });
      expect(ctx.logger.lines).toHaveLength(2);
      expect(ctx.logger.lines[1]).toMatch(new RegExp(`^info ${kind} is back after \\d+(\\.\\d)? s`));
      // What was written to memory during the outage is dropped, so it cannot resurface later. (A
      // write that missed its budget may still land in Redis once it is back: it was sent.)
      expect(ctx.cache.memory.stats().entries).toBe(0);
      // Served by the remote again.
      expect(await ctx.cache.get('before')).toBe('remote value');
      await ctx.cache.set('after', 'remote again', 60_000);
      expect(await remote.store.get('after')).toBe('remote again');
    },
  );

  it('goes on rate limiting (per process) while degraded', async () => {
    const ctx = wrap(await unreachable(kind));
    disposables.push(() => ctx.cache.close());
    const rule = { key: 'rate:widget:ip:203.0.113.7', ttlMs: 60_000, limit: 5 };
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await answersPromptly(() => checkRateLimit(ctx.cache, rule, () => ctx.clock.now)));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, true, true, false, false]);
    expect(results.map((r) => r.remaining)).toEqual([4, 3, 2, 1, 0, 0, 0]);
    expect(results[6]!.resetAt).toBeGreaterThan(ctx.clock.now);
    expect(results[6]!.resetAt).toBeLessThanOrEqual(ctx.clock.now + 60_000);
    expect(ctx.cache.state().degraded).toBe(true);
  });
});
