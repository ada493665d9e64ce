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
