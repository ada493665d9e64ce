/**
 * The in-memory cache: the embedded default with no Redis configured, and the fallback while a
 * remote Redis is unreachable. Bounded by entry count AND bytes (lru-cache evicts the least recently
 * used entries to stay under both), with a TTL on every entry. It mirrors Redis semantics where the
 * app can tell (wrong-type errors, integer counters, LRANGE indexes), so the contract suite holds.
 */
import { LRUCache } from 'lru-cache';
import { cacheDefaults } from '@/lib/config';
import { fromErrorReply } from './errors';
import { BatchStore } from './batch-store';
import type { CacheOp, CacheOpResult, Counter } from './types';

export interface MemoryStoreOptions {
  /** @default 10000 */
  maxEntries?: number;
  /** Approximate bytes held: UTF-8 size of keys and values plus a fixed overhead per entry. @default 67108864 (64 MiB) */
  maxBytes?: number;
}

type Entry = { type: 'string'; value: string; bytes: number } | { type: 'list'; items: string[]; bytes: number };

/** Rough cost of an entry's bookkeeping (object, slots in lru-cache's arrays), counted against maxBytes. */
const ENTRY_OVERHEAD_BYTES = 64;

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const NOT_AN_INTEGER = 'ERR value is not an integer or out of range';

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

export class MemoryStore extends BatchStore {
  readonly kind = 'memory' as const;
  readonly maxEntries: number;
  readonly maxBytes: number;
  private readonly lru: LRUCache<string, Entry>;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.maxEntries = options.maxEntries ?? cacheDefaults.memoryMaxEntries;
    this.maxBytes = options.maxBytes ?? cacheDefaults.memoryMaxBytes;
    this.lru = new LRUCache<string, Entry>({
      max: this.maxEntries,
      maxSize: this.maxBytes,
      sizeCalculation: (entry, key) => entry.bytes + byteLength(key) + ENTRY_OVERHEAD_BYTES,
      // Read the clock on every access: lru-cache otherwise reuses a cached time for a while, and a
      // counter's remaining TTL could come out longer than the TTL it was created with.
      ttlResolution: 0,
    });
  }

  /** Entries and bytes held now (expired entries count until they are touched or evicted). */
  stats(): { entries: number; bytes: number } {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }

  /**
   * Operations run synchronously, one after another, so a batch is atomic with respect to every
   * other call. As in a Redis transaction, a failing operation does not undo the others.
   */
  protected async run(ops: readonly CacheOp[]): Promise<unknown[]> {
    let failure: unknown;
    const results = ops.map((op) => {
      try {
        return this.apply(op);
      } catch (error) {
        failure ??= error;
        return undefined;
      }
    });
    if (failure !== undefined) throw failure;
    return results;
  }

  private apply(op: CacheOp): CacheOpResult {
    switch (op.op) {
      case 'get': {
        const entry = this.lru.get(op.key);
        if (entry?.type === 'list') throw fromErrorReply('memory', WRONGTYPE);
        return entry?.value ?? null;
      }
      case 'set':
        this.lru.set(op.key, { type: 'string', value: op.value, bytes: byteLength(op.value) }, { ttl: op.ttlMs });
        return undefined;
      case 'delete': {
        const existed = this.lru.has(op.key);
        this.lru.delete(op.key);
        return existed;
      }
      case 'increment':
        return this.bumpCounter(op.key, op.ttlMs, op.by ?? 1);
      case 'append': {
        const entry = this.lru.get(op.key);
        if (entry?.type === 'string') throw fromErrorReply('memory', WRONGTYPE);
        const items = entry?.items ?? [];
        items.push(...op.values);
        const bytes = (entry?.bytes ?? 0) + op.values.reduce((sum, v) => sum + byteLength(v), 0);
        // A new wrapper object, so lru-cache recomputes the entry's size.
        this.lru.set(op.key, { type: 'list', items, bytes }, { ttl: op.ttlMs });
        return items.length;
      }
      case 'range': {
        const entry = this.lru.get(op.key);
        if (entry?.type === 'string') throw fromErrorReply('memory', WRONGTYPE);
        return lrange(entry?.items ?? [], op.start, op.stop);
      }
    }
  }

  private bumpCounter(key: string, ttlMs: number, by: number): Counter {
    const entry = this.lru.get(key);
    if (!entry) {
      this.lru.set(key, { type: 'string', value: String(by), bytes: String(by).length }, { ttl: ttlMs });
      return { value: by, ttlMs };
    }
    if (entry.type === 'list') throw fromErrorReply('memory', WRONGTYPE);
    const current = /^-?\d+$/.test(entry.value) ? Number(entry.value) : NaN;
    if (!Number.isSafeInteger(current + by)) throw fromErrorReply('memory', NOT_AN_INTEGER);
    const value = String(current + by);
    // Redis's INCR keeps the key's TTL: carry the remaining time over instead of restarting it.
    const remaining = Math.max(1, Math.ceil(this.lru.getRemainingTTL(key)));
    this.lru.set(key, { type: 'string', value, bytes: value.length }, { ttl: remaining });
    return { value: current + by, ttlMs: remaining };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    this.lru.clear();
  }

  /** Drop everything (the fallback wrapper does this when the remote comes back). */
  clear(): void {
    this.lru.clear();
  }
}

/** Redis LRANGE: inclusive bounds, negative indexes from the end, out-of-range clamped. */
function lrange(items: readonly string[], start: number, stop: number): string[] {
  const n = items.length;
  const from = Math.max(0, start < 0 ? n + start : start);
  const to = Math.min(n - 1, stop < 0 ? n + stop : stop);
  return from > to ? [] : items.slice(from, to + 1);
}
