/**
 * The ephemeral-tier port (docs/architecture.md, docs/cache.md): a small Redis-shaped cache for rate limits, active job
 * state (1 h), job results (24 h) and content hashes. Values are strings (callers serialise); every
 * key carries a TTL, so nothing written through this port lives forever.
 *
 * Adapters: `upstash` (REST), `redis` (TCP), `memory` (bounded LRU). `getRedisClientWithFallback()`
 * wraps the configured remote so that a slow or failing Redis degrades to memory instead of failing
 * a request.
 */
export type CacheKind = 'upstash' | 'redis' | 'memory';

/** A counter after `increment`: its new value and the time left until it expires. */
export interface Counter {
  value: number;
  ttlMs: number;
}

/** One operation of a batch. TTLs are milliseconds (positive integers). */
export type CacheOp =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: string; ttlMs: number }
  | { op: 'delete'; key: string }
  /**
   * Add `by` (default 1; an integer, negative to give back) — a missing key counts from 0; the TTL is
   * set when the counter is created, never extended.
   */
  | { op: 'increment'; key: string; ttlMs: number; by?: number }
  /** Push values to the tail of a list and (re)set the list's TTL; resolves to the new length. */
  | { op: 'append'; key: string; values: readonly string[]; ttlMs: number }
  /** Items `start`..`stop` inclusive; negative indexes count from the end (Redis LRANGE). */
  | { op: 'range'; key: string; start: number; stop: number };

export interface CacheOpResults {
  get: string | null;
  set: undefined;
  /** Whether the key existed. */
  delete: boolean;
  increment: Counter;
  append: number;
  range: string[];
}

export type CacheOpResult = CacheOpResults[CacheOp['op']];

/** The results of a batch, position by position, typed after its operations. */
export type BatchResults<T extends readonly CacheOp[]> = { -readonly [I in keyof T]: CacheOpResults[T[I]['op']] };

export interface CacheStore {
  readonly kind: CacheKind;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  increment(key: string, ttlMs: number): Promise<Counter>;
  append(key: string, values: readonly string[], ttlMs: number): Promise<number>;
  /** @default start 0, stop -1 (the whole list) */
  range(key: string, start?: number, stop?: number): Promise<string[]>;
  /**
   * Several operations in one round trip, applied as one transaction (Redis MULTI/EXEC, Upstash
   * `/multi-exec`): no other client's command runs in between. As in Redis, an operation that fails
   * does not undo the others; the batch then rejects with the first failure.
   */
  batch<const T extends readonly CacheOp[]>(ops: T): Promise<BatchResults<T>>;
  /** Resolves when the backend answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
