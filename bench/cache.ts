/**
 * The ephemeral tier:
 *  1. get/set throughput of each adapter — Redis over TCP, Upstash's client through the local REST
 *     bridge (a stand-in: a real Upstash adds the network), memory — against memory in the same run;
 *  2. the cost of an outage once the circuit is open: per-call latency of the fallback wrapper with
 *     an unreachable remote vs the memory store alone. Goal: ≤ 5 ms added at p99.
 */
import { FallbackCache } from '@/lib/cache/fallback';
import { MemoryStore } from '@/lib/cache/memory';
import { createRedisStore } from '@/lib/cache/redis';
import type { CacheStore } from '@/lib/cache/types';
import { createUpstashStore } from '@/lib/cache/upstash';
import { loadConfig } from '@/lib/config';
import { deleteKeys, uniquePrefix } from '../tests/support/cache';
import { freePort } from '../tests/support/services';
import { startUpstashBridge } from '../tests/support/upstash-bridge';
import { compare, latencies, median, percentile, printTable } from './harness';

const VALUE = JSON.stringify({ status: 'running', pages: 42, domain: 'example.com', startedAt: '2026-11-22T10:00:00Z' });
const TTL_MS = 60_000;
const GOAL_ADDED_P99_MS = 5;

type Row = (string | number)[];

const ops = {
  set: (cache: CacheStore) => (i: number) => cache.set(`k${i % 1000}`, VALUE, TTL_MS),
  get: (cache: CacheStore) => (i: number) => cache.get(`k${i % 1000}`),
};

async function throughputRows(name: string, subject: CacheStore, count: number): Promise<Row[]> {
  const memory = new MemoryStore();
  const rows: Row[] = [];
  for (const [op, make] of Object.entries(ops)) {
    for (const concurrency of [1, 16]) {
      const r = await compare(make(memory), make(subject), { count, rounds: 5, concurrency });
      rows.push([name, op, concurrency === 1 ? 'sequential' : '16 in flight', r.subject, r.baseline, `${(r.subject / r.baseline * 100).toFixed(2)}%`]);
    }
  }
  return rows;
}

/** p50/p99 of the wrapper with its circuit open vs memory alone, rounds interleaved. */
async function openCircuitRows(name: string, remote: CacheStore): Promise<Row[]> {
  const cache = new FallbackCache(remote, new MemoryStore(), { logger: { debug() {}, info() {}, warn() {}, error() {} } });
  // Open the circuit: the default threshold is 3 consecutive failures.
  for (let i = 0; i < 3; i++) await cache.get('warm-up');
  if (!cache.state().degraded) throw new Error(`[omniops] [bench] the ${name} circuit did not open`);
  const memory = new MemoryStore();
  const rows: Row[] = [];
  try {
    for (const [op, make] of Object.entries(ops)) {
      const m = { p50: [] as number[], p99: [] as number[] };
      const f = { p50: [] as number[], p99: [] as number[] };
      for (let round = 0; round < 5; round++) {
        const pair = round % 2 === 0 ? ([[memory, m], [cache, f]] as const) : ([[cache, f], [memory, m]] as const);
        for (const [store, acc] of pair) {
          const sorted = await latencies(make(store), 20_000);
          acc.p50.push(percentile(sorted, 50));
          acc.p99.push(percentile(sorted, 99));
        }
      }
      const added = median(f.p99) - median(m.p99);
      rows.push([
        name,
        op,
        median(m.p50) * 1000,
        median(m.p99) * 1000,
        median(f.p50) * 1000,
        median(f.p99) * 1000,
        `${(added * 1000).toFixed(1)} µs`,
        added <= GOAL_ADDED_P99_MS ? 'met' : 'MISSED',
      ]);
    }
  } finally {
    await cache.close();
  }
  return rows;
}

export async function run(): Promise<void> {
  const config = loadConfig();
  const redisUrl = config.redisUrl ?? 'redis://127.0.0.1:6379';
  const prefix = uniquePrefix('bench');

  const rows: Row[] = await throughputRows('memory', new MemoryStore(), 50_000);
  const redis = createRedisStore(redisUrl, { keyPrefix: `${prefix}redis:` });
  const bridge = await startUpstashBridge({ redisUrl }).catch((error: unknown) => {
    console.log(`  (redis and upstash skipped: ${redisUrl} unreachable: ${(error as Error).message})`);
    return undefined;
  });
  try {
    if (bridge) {
      rows.push(...(await throughputRows('redis (TCP)', redis, 5_000)));
      const upstash = createUpstashStore({ url: bridge.url, token: bridge.token }, { keyPrefix: `${prefix}upstash:` });
      rows.push(...(await throughputRows('upstash (bridge)', upstash, 1_000)));
    }
  } finally {
    await redis.close();
    await bridge?.close();
    if (bridge) await deleteKeys(redisUrl, prefix);
  }
  printTable(
    'Cache adapters — ops/s (median of 5 interleaved rounds; memory measured alongside each)',
    ['adapter', 'op', 'mode', 'ops/s', 'memory ops/s', 'of memory'],
    rows,
  );

  const port = await freePort(); // free: nothing listens there
  const outage = [
    ...(await openCircuitRows('redis', createRedisStore(`redis://127.0.0.1:${port}`))),
    ...(await openCircuitRows('upstash', createUpstashStore({ url: `http://127.0.0.1:${port}`, token: 'unused' }))),
  ];
  printTable(
    'Remote unreachable, circuit open — latency per call in µs (20,000 calls × 5 interleaved rounds, medians)',
    ['remote', 'op', 'memory p50', 'memory p99', 'fallback p50', 'fallback p99', 'added p99', `goal ≤ ${GOAL_ADDED_P99_MS} ms`],
    outage,
  );
}
