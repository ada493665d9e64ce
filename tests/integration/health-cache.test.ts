/**
 * /api/health's view of the cache with a real Redis that goes away and comes back (through a TCP
 * proxy): the health function keeps answering ok (a degraded cache is not an outage), reports
 * `degraded`, and recovers. The loose "within 1 s" bound only proves that no call waits for the
 * dead Redis; speed is measured in bench/cache.ts.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import { loadConfig, type Config } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import { getHealth } from '@/lib/health';
import { deleteKeys, uniquePrefix, viaPort } from '../support/cache';
import { migratedPostgres } from '../support/databases';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

const prefix = uniquePrefix('health');
let proxy: TcpProxy;
let config: Config;
let disposePg: () => Promise<void>;

beforeAll(async () => {
  const pg = await migratedPostgres();
  await pg.db.close();
  disposePg = pg.dispose;
  const redisUrl = inject('redisUrl');
  const target = new URL(redisUrl);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  config = loadConfig({
    DATABASE_URL: pg.database.url,
    REDIS_URL: viaPort(redisUrl, proxy.port),
    CACHE_KEY_PREFIX: prefix,
    // Real time here (the app's own clock): probe often so the test sees the recovery soon.
    CACHE_PROBE_INTERVAL_MS: '50',
  });
});

afterAll(async () => {
  await getRedisClientWithFallback(config).close();
  await (await resolveDb(config)).close();
  await proxy.close();
  await disposePg();
  await deleteKeys(inject('redisUrl'), prefix);
});

async function health() {
  const started = performance.now();
  const result = await getHealth(config);
  expect(performance.now() - started).toBeLessThan(1000);
  return result;
}

describe('health with a Redis that goes away', () => {
  it('stays ok, reports the cache degraded while Redis is gone, and recovers', async () => {
    await expect.poll(async () => (await health()).cache, { timeout: 5000 }).toMatchObject({ kind: 'redis', degraded: false });

    await proxy.cut();
    for (let i = 0; i < 10; i++) expect((await health()).ok).toBe(true);
    const degraded = await health();
    expect(degraded.cache).toMatchObject({ kind: 'redis', degraded: true });
    expect(Date.parse(degraded.cache.since)).toBeLessThanOrEqual(Date.now());

    await proxy.restore();
    await expect.poll(async () => (await health()).cache.degraded, { timeout: 10_000, interval: 100 }).toBe(false);
    expect((await health()).ok).toBe(true);
  });
});
