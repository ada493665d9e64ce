/**
 * One contract for the cache port, run against every adapter: memory, Redis over TCP (node-redis
 * against the real server), Upstash (the real @upstash/redis client against the REST bridge onto the
 * same server), and the fallback wrapper over Redis. An adapter that answers differently fails here.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CacheError } from '@/lib/cache/errors';
import { FallbackCache } from '@/lib/cache/fallback';
import { MemoryStore } from '@/lib/cache/memory';
import { createRedisStore } from '@/lib/cache/redis';
import type { CacheKind, CacheStore } from '@/lib/cache/types';
import { createUpstashStore } from '@/lib/cache/upstash';
import { deleteKeys, uniquePrefix } from '../support/cache';
import { startUpstashBridge } from '../support/upstash-bridge';

interface Backend {
  store: CacheStore;
  dispose(): Promise<void>;
}

const prefix = uniquePrefix('contract');

const backends: Record<string, { kind: CacheKind; open(redisUrl: string): Promise<Backend> }> = {
  memory: {
    kind: 'memory',
    open: async () => {
      const store = new MemoryStore();
      return { store, dispose: () => store.close() };
    },
  },
  redis: {
    kind: 'redis',
    open: async (redisUrl) => {
      const store = createRedisStore(redisUrl, { keyPrefix: `${prefix}redis:` });
      return { store, dispose: () => store.close() };
    },
  },
  upstash: {
    kind: 'upstash',
    open: async (redisUrl) => {
      const bridge = await startUpstashBridge({ redisUrl });
      const store = createUpstashStore({ url: bridge.url, token: bridge.token }, { keyPrefix: `${prefix}upstash:` });
      return {
        store,
        async dispose() {
          await store.close();
          await bridge.close();
        },
      };
    },
  },
  'fallback over redis': {
    kind: 'redis',
    open: async (redisUrl) => {
      // The budget is generous: this checks the wrapper's answers, not its timing.
      const store = new FallbackCache(createRedisStore(redisUrl, { keyPrefix: `${prefix}fallback:` }), new MemoryStore(), {
        timeoutMs: 5000,
      });
      return { store, dispose: () => store.close() };
    },
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function rejection(promise: Promise<unknown>): Promise<CacheError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CacheError);
    return error as CacheError;
  }
  throw new Error('expected a rejection');
}

afterAll(async () => {
  await deleteKeys(inject('redisUrl'), prefix);
});

describe.each(Object.keys(backends))('cache contract: %s', (name) => {
  const spec = backends[name]!;
  let backend: Backend;
  let cache: CacheStore;
  let n = 0;
  /** A fresh key per use, so tests never see each other's data. */
  const key = (label: string) => `${label}:${++n}`;

  beforeAll(async () => {
    backend = await spec.open(inject('redisUrl'));
    cache = backend.store;
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('reports its kind and answers ping', async () => {
    expect(cache.kind).toBe(spec.kind);
    await expect(cache.ping()).resolves.toBeUndefined();
  });

  it('sets, gets, overwrites and deletes strings', async () => {
    const k = key('str');
    expect(await cache.get(k)).toBeNull();
    await cache.set(k, 'one', 60_000);
    expect(await cache.get(k)).toBe('one');
    await cache.set(k, '', 60_000);
    expect(await cache.get(k)).toBe('');
    // Values are strings end to end: no JSON (de)serialisation turns '42' into 42.
    await cache.set(k, '42', 60_000);
    expect(await cache.get(k)).toBe('42');
    expect(await cache.delete(k)).toBe(true);
    expect(await cache.delete(k)).toBe(false);
    expect(await cache.get(k)).toBeNull();
  });

  it('expires strings, counters and lists after their TTL', async () => {
    const [s, c, l] = [key('ttl-s'), key('ttl-c'), key('ttl-l')];
    await cache.set(s, 'v', 150);
    await cache.increment(c, 150);
    await cache.append(l, ['a'], 150);
    expect(await cache.get(s)).toBe('v');
    await sleep(400);
    expect(await cache.get(s)).toBeNull();
    expect(await cache.range(l)).toEqual([]);
    expect(await cache.increment(c, 60_000)).toMatchObject({ value: 1 });
  });

  it('increments from 1 and keeps the TTL set when the counter was created', async () => {
    const k = key('counter');
    const first = await cache.increment(k, 10_000);
    expect(first.value).toBe(1);
    expect(first.ttlMs).toBeGreaterThan(9_000);
    expect(first.ttlMs).toBeLessThanOrEqual(10_000);
    expect((await cache.increment(k, 10_000)).value).toBe(2);
    // A later, longer TTL does not extend the window.
    const third = await cache.increment(k, 3_600_000);
    expect(third.value).toBe(3);
    expect(third.ttlMs).toBeLessThanOrEqual(10_000);
    expect(await cache.get(k)).toBe('3');
  });

  it('increments by any integer in a batch (a cost, or a charge given back), keeping the TTL', async () => {
    const k = key('counter-by');
    const [created] = await cache.batch([{ op: 'increment', key: k, ttlMs: 10_000, by: 100 }]);
    expect(created.value).toBe(100);
    const [back] = await cache.batch([{ op: 'increment', key: k, ttlMs: 3_600_000, by: -40 }]);
    expect(back.value).toBe(60);
    expect(back.ttlMs).toBeLessThanOrEqual(10_000);
    expect(await cache.get(k)).toBe('60');
  });

  it('refuses wrong-type operations like Redis does, without reaching for memory', async () => {
    const [s, l] = [key('wt-s'), key('wt-l')];
    await cache.set(s, 'not a number', 60_000);
    await cache.append(l, ['x'], 60_000);
    expect(await rejection(cache.increment(s, 60_000))).toMatchObject({ reason: 'rejected' });
    expect(await rejection(cache.append(s, ['y'], 60_000))).toMatchObject({ reason: 'rejected' });
    expect(await rejection(cache.range(s))).toMatchObject({ reason: 'rejected' });
    expect(await rejection(cache.get(l))).toMatchObject({ reason: 'rejected' });
    expect((await rejection(cache.increment(l, 60_000))).message).toMatch(/^\[omniops\] \[cache\] \w+: WRONGTYPE /);
  });

  it('refuses invalid TTLs and empty appends before reaching the backend', async () => {
    for (const ttl of [0, -1, 1.5, Number.NaN]) {
      expect(await rejection(cache.set(key('bad-ttl'), 'v', ttl))).toMatchObject({ reason: 'invalid' });
    }
    expect(await rejection(cache.append(key('empty'), [], 1000))).toMatchObject({ reason: 'invalid' });
  });

  it('appends to lists and reads ranges with Redis LRANGE indexes', async () => {
    const k = key('list');
    expect(await cache.range(k)).toEqual([]);
    expect(await cache.append(k, ['a', 'b'], 60_000)).toBe(2);
    expect(await cache.append(k, ['c', 'd', 'e'], 60_000)).toBe(5);
    expect(await cache.range(k)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await cache.range(k, 1, 2)).toEqual(['b', 'c']);
    expect(await cache.range(k, -2, -1)).toEqual(['d', 'e']);
    expect(await cache.range(k, -100, 100)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await cache.range(k, 3, 1)).toEqual([]);
    expect(await cache.range(k, 10, 20)).toEqual([]);
  });

  it('runs a batch in one call, with typed results in order', async () => {
    const [s, c, l] = [key('b-s'), key('b-c'), key('b-l')];
    const results = await cache.batch([
      { op: 'set', key: s, value: 'v', ttlMs: 60_000 },
      { op: 'get', key: s },
      { op: 'increment', key: c, ttlMs: 60_000 },
      { op: 'increment', key: c, ttlMs: 60_000 },
      { op: 'append', key: l, values: ['x', 'y'], ttlMs: 60_000 },
      { op: 'range', key: l, start: 0, stop: -1 },
      { op: 'delete', key: s },
      { op: 'get', key: s },
    ]);
    expect(results).toEqual([undefined, 'v', { value: 1, ttlMs: expect.any(Number) }, { value: 2, ttlMs: expect.any(Number) }, 2, ['x', 'y'], true, null]);
    expect(await cache.batch([])).toEqual([]);
  });

  it('rejects a batch with a refused operation, keeping the others (as a Redis transaction does)', async () => {
    const [s, ok] = [key('bf-s'), key('bf-ok')];
    await cache.set(s, 'text', 60_000);
    const error = await rejection(
      cache.batch([
        { op: 'set', key: ok, value: 'kept', ttlMs: 60_000 },
        { op: 'increment', key: s, ttlMs: 60_000 },
      ]),
    );
    expect(error.reason).toBe('rejected');
    expect(await cache.get(ok)).toBe('kept');
  });

  it('round-trips large values', async () => {
    const k = key('large');
    const big = 'x'.repeat(1_000_000) + 'é🔑';
    await cache.set(k, big, 60_000);
    expect(await cache.get(k)).toBe(big);
    const items = Array.from({ length: 1000 }, (_, i) => `${i}:${'y'.repeat(1000)}`);
    const l = key('large-list');
    expect(await cache.append(l, items, 60_000)).toBe(1000);
    expect(await cache.range(l)).toEqual(items);
  });

  it('handles unicode keys and values byte for byte', async () => {
    const k = `clé:ключ:鍵:🔑:${key('u')}`;
    const value = 'Grüße, 你好, مرحبا, 👋🏽 — "quoted" \\ back\\slash\nnew line';
    await cache.set(k, value, 60_000);
    expect(await cache.get(k)).toBe(value);
    const l = `liste:📋:${key('u')}`;
    await cache.append(l, ['ü', '🙂', 'OK', ''], 60_000);
    expect(await cache.range(l)).toEqual(['ü', '🙂', 'OK', '']);
    expect((await cache.increment(`zähler:${key('u')}`, 60_000)).value).toBe(1);
  });

  it('loses no update under concurrent increments', async () => {
    const k = key('concurrent');
    const values = await Promise.all(Array.from({ length: 200 }, () => cache.increment(k, 60_000)));
    expect(values.map((c) => c.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await cache.get(k)).toBe('200');
  });

  it('keeps concurrent appends whole', async () => {
    const k = key('concurrent-list');
    await Promise.all(Array.from({ length: 50 }, (_, i) => cache.append(k, [`${i}a`, `${i}b`], 60_000)));
    const items = await cache.range(k);
    expect(items).toHaveLength(100);
    for (let i = 0; i < 50; i++) expect(items.indexOf(`${i}b`)).toBe(items.indexOf(`${i}a`) + 1);
  });
});
