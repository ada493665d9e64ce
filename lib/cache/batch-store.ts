/**
 * Every adapter implements `run` (a validated batch) and gets the single-operation methods from it,
 * so a single call and a batch of one behave the same on every backend.
 */
import { assertTtl, CacheError } from './errors';
import type { BatchResults, CacheKind, CacheOp, CacheStore, Counter } from './types';

export abstract class BatchStore implements CacheStore {
  abstract readonly kind: CacheKind;
  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;
  /** Run a non-empty batch whose TTLs are already validated. */
  protected abstract run(ops: readonly CacheOp[]): Promise<unknown[]>;

  async batch<const T extends readonly CacheOp[]>(ops: T): Promise<BatchResults<T>> {
    for (const op of ops) {
      if ('ttlMs' in op) assertTtl(op.ttlMs);
      if (op.op === 'append' && op.values.length === 0) {
        throw new CacheError('invalid', `[omniops] [cache] append to ${JSON.stringify(op.key)} needs at least one value`);
      }
    }
    if (ops.length === 0) return [] as unknown as BatchResults<T>;
    // `run` returns one result per operation in order, shaped as CacheOpResults says.
    return (await this.run(ops)) as BatchResults<T>;
  }

  async get(key: string): Promise<string | null> {
    const [value] = await this.batch([{ op: 'get', key }]);
    return value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.batch([{ op: 'set', key, value, ttlMs }]);
  }

  async delete(key: string): Promise<boolean> {
    const [existed] = await this.batch([{ op: 'delete', key }]);
    return existed;
  }

  async increment(key: string, ttlMs: number): Promise<Counter> {
    const [counter] = await this.batch([{ op: 'increment', key, ttlMs }]);
    return counter;
  }

  async append(key: string, values: readonly string[], ttlMs: number): Promise<number> {
    const [length] = await this.batch([{ op: 'append', key, values, ttlMs }]);
    return length;
  }

  async range(key: string, start = 0, stop = -1): Promise<string[]> {
    const [items] = await this.batch([{ op: 'range', key, start, stop }]);
    return items;
  }
}
