import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@/lib/cache/memory';

describe('MemoryStore bounds', () => {
  it('stays under its entry limit however many keys are inserted', async () => {
    const store = new MemoryStore({ maxEntries: 100, maxBytes: 1 << 30 });
    for (let i = 0; i < 10_000; i++) await store.set(`k${i}`, 'v', 60_000);
    expect(store.stats().entries).toBe(100);
    // Least recently used go first: the newest survive.
    expect(await store.get('k9999')).toBe('v');
    expect(await store.get('k0')).toBeNull();
  });

  it('stays under its byte limit with values, counters and growing lists', async () => {
    const maxBytes = 64 * 1024;
    const store = new MemoryStore({ maxEntries: 1_000_000, maxBytes });
    for (let i = 0; i < 5_000; i++) {
      await store.batch([
        { op: 'set', key: `s${i}`, value: 'é'.repeat(i % 700), ttlMs: 60_000 },
        { op: 'increment', key: `c${i}`, ttlMs: 60_000 },
        { op: 'append', key: `list${i % 10}`, values: ['x'.repeat(100)], ttlMs: 60_000 },
      ]);
      expect(store.stats().bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(store.stats().entries).toBeGreaterThan(0);
  });

  it('does not keep a value larger than the whole budget, and drops the old one', async () => {
    const store = new MemoryStore({ maxEntries: 10, maxBytes: 4096 });
    await store.set('big', 'small', 60_000);
    await store.set('big', 'x'.repeat(10_000), 60_000);
    expect(await store.get('big')).toBeNull();
    expect(store.stats().bytes).toBeLessThanOrEqual(4096);
  });
});

/** The rejection of `promise` (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: Error) => error,
  );
}

describe('MemoryStore as Redis answers', () => {
  it('ranges like LRANGE: inclusive, negative indexes from the end, clamped, empty when crossed', async () => {
    const cache = new MemoryStore();
    await cache.append('l', ['a', 'b', 'c', 'd', 'e'], 60_000);
    expect(await cache.range('l', 0, -2)).toEqual(['a', 'b', 'c', 'd']);
    expect(await cache.range('l', -2, -1)).toEqual(['d', 'e']);
    expect(await cache.range('l', 1, 1)).toEqual(['b']);
    expect(await cache.range('l', 3, 1)).toEqual([]);
    expect(await cache.range('l', -100, 100)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await cache.range('l', 2, 0)).toEqual([]);
    expect(await cache.range('l', 0, 0)).toEqual(['a']);
  });

  it('refuses to increment what is not an integer, or past the safe integers, with Redis’s messages', async () => {
    const cache = new MemoryStore();
    for (const value of ['12abc', 'abc12', '1.5', '']) {
      await cache.set('n', value, 60_000);
      expect((await rejection(cache.increment('n', 60_000))).message).toMatch(/ERR value is not an integer or out of range$/);
    }
    await cache.set('n', String(Number.MAX_SAFE_INTEGER), 60_000);
    expect((await rejection(cache.increment('n', 60_000))).message).toMatch(/ERR value is not an integer or out of range$/);
    await cache.set('n', '-7', 60_000);
    expect(await cache.increment('n', 60_000)).toMatchObject({ value: -6 });
  });

  it('answers WRONGTYPE for a string read as a list and a list read as a string', async () => {
    const cache = new MemoryStore();
    await cache.set('s', 'v', 60_000);
    await cache.append('l', ['x'], 60_000);
    for (const call of [cache.get('l'), cache.append('s', ['y'], 60_000), cache.range('s')]) {
      expect((await rejection(call)).message).toMatch(/WRONGTYPE Operation against a key holding the wrong kind of value$/);
    }
  });
});
