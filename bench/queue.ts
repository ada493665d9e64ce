/**
 * Queue throughput on the real PostgreSQL (default durability), side by side in one run:
 *   - omniops: queue_enqueue / queue_claim (completing the previous batch in the same call) through
 *     the Db port, with idempotency keys, retries and dead letters;
 *   - raw: the physical limit of a correct Postgres queue here — multi-row INSERT,
 *     UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING, DELETE … = ANY;
 *   - pg-boss (npm, same database, its own schema).
 * Phases per batch size: enqueue N; claim+complete N; 1 producer + 2 consumers concurrently.
 * Each system runs all three phases once per round, in an order that rotates from round to round,
 * and the median of the rounds is reported: on a shared machine whose load drifts over minutes, a
 * system measured only before or after the others would carry that drift into the ratio.
 * Goal: omniops ≥ 90 % of raw at batch sizes 1 and 100.
 */
import crypto from 'node:crypto';
import PgBoss from 'pg-boss';
import postgres from 'postgres';
import { loadConfig } from '@/lib/config';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PostgresDb } from '@/lib/db/postgres';
import { claimMessages, enqueueMessages } from '@/lib/queue';
import { median, printTable } from './harness';

const ROUNDS = 3;

interface QueueUnderTest {
  name: string;
  enqueue(offset: number, count: number): Promise<void>;
  /** Claim up to `count`, completing `previous` (claimed before) — in one call where the system allows. */
  claim(count: number, previous: string[]): Promise<string[]>;
  complete(ids: string[]): Promise<void>;
  reset(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function enqueueAll(q: QueueUnderTest, n: number, batch: number): Promise<void> {
  for (let offset = 0; offset < n; offset += batch) await q.enqueue(offset, Math.min(batch, n - offset));
}

/** Claim and complete until `target` messages were handled (shared counter across consumers). */
async function consume(q: QueueUnderTest, batch: number, state: { done: number; target: number }): Promise<void> {
  let previous: string[] = [];
  while (state.done < state.target) {
    const claimed = await q.claim(batch, previous);
    state.done += claimed.length;
    previous = claimed;
    if (claimed.length === 0) await sleep(1);
  }
  if (previous.length > 0) await q.complete(previous);
}

async function measure(q: QueueUnderTest, n: number, batch: number): Promise<number[]> {
  await q.reset();
  let t = performance.now();
  await enqueueAll(q, n, batch);
  const enqueueRate = n / ((performance.now() - t) / 1000);

  t = performance.now();
  await consume(q, batch, { done: 0, target: n });
  const claimRate = n / ((performance.now() - t) / 1000);

  await q.reset();
  t = performance.now();
  const state = { done: 0, target: n };
  await Promise.all([enqueueAll(q, n, batch), consume(q, batch, state), consume(q, batch, state)]);
  const concurrentRate = n / ((performance.now() - t) / 1000);
  return [enqueueRate, claimRate, concurrentRate];
}

async function omniops(url: string): Promise<QueueUnderTest & { close(): Promise<void> }> {
  const db = new PostgresDb(url, { max: 4 });
  await migrate(db.admin, loadMigrations());
  // Enterprise: no monthly message limit in the way of the measurement.
  const { customer } = await db.rpc<{ customer: { id: string } }>('customers_create', { name: 'Bench', plan: 'enterprise' });
  return {
    name: 'omniops',
    async enqueue(offset, count) {
      await enqueueMessages(db, {
        customerId: customer.id,
        sessionId: `bench-session-${Math.floor(offset / 100)}`,
        messages: Array.from({ length: count }, (_, i) => ({
          clientMessageId: `m-${offset + i}`,
          data: { text: `message ${offset + i}` },
        })),
      });
    },
    async claim(count, previous) {
      const claimed = await claimMessages(db, { limit: count, complete: previous.length > 0 ? previous : undefined });
      return claimed.map((m) => m.id);
    },
    async complete(ids) {
      await db.rpc('queue_complete', { ids });
    },
    async reset() {
      await db.admin.exec('truncate message_queue, conversations cascade');
    },
    close: () => db.close(),
  };
}

async function raw(url: string): Promise<QueueUnderTest & { close(): Promise<void> }> {
  const sql = postgres(url, { max: 4, onnotice: () => {} });
  await sql.unsafe(`
    create schema if not exists raw_bench;
    create table if not exists raw_bench.queue (
      id bigint generated always as identity primary key,
      vt timestamptz not null default now(),
      payload jsonb not null
    )`);
  return {
    name: 'raw SQL',
    async enqueue(offset, count) {
      const payloads = Array.from({ length: count }, (_, i) => ({ text: `message ${offset + i}` }));
      await sql`insert into raw_bench.queue (payload) select * from jsonb_array_elements(${sql.json(payloads)})`;
    },
    async claim(count, previous) {
      if (previous.length > 0) await sql`delete from raw_bench.queue where id = any(${previous}::bigint[])`;
      const rows = await sql<{ id: string }[]>`
        update raw_bench.queue set vt = now() + interval '30 seconds'
         where id in (select id from raw_bench.queue where vt <= now() order by id limit ${count} for update skip locked)
        returning id`;
      return rows.map((r) => r.id);
    },
    async complete(ids) {
      await sql`delete from raw_bench.queue where id = any(${ids}::bigint[])`;
    },
    async reset() {
      await sql`truncate raw_bench.queue`;
    },
    close: () => sql.end(),
  };
}

async function pgBoss(url: string): Promise<QueueUnderTest & { close(): Promise<void> }> {
  const boss = new PgBoss({ connectionString: url, schema: 'pgboss_bench', max: 4, supervise: false, schedule: false });
  // The message only: pg-boss attaches its whole connection object to errors.
  boss.on('error', (error: Error) => console.error(`[bench] pg-boss: ${error.message}`));
  await boss.start();
  // A fresh queue (its own partition) per phase, so every phase starts from an empty table.
  let queue = '';
  let phase = 0;
  return {
    name: 'pg-boss',
    async enqueue(offset, count) {
      await boss.insert(Array.from({ length: count }, (_, i) => ({ name: queue, data: { text: `message ${offset + i}` } })));
    },
    async claim(count, previous) {
      if (previous.length > 0) await boss.complete(queue, previous);
      return (await boss.fetch(queue, { batchSize: count })).map((j) => j.id);
    },
    async complete(ids) {
      await boss.complete(queue, ids);
    },
    async reset() {
      queue = `bench_${++phase}`;
      await boss.createQueue(queue);
    },
    close: () => boss.stop({ graceful: false, wait: true }),
  };
}

export async function run(): Promise<void> {
  const adminUrl = loadConfig().databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `omniops_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    console.log(`\n(queue benchmark skipped: ${adminUrl} unreachable: ${(error as Error).message})`);
    await admin.end();
    return;
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const systems = [await omniops(url.toString()), await raw(url.toString()), await pgBoss(url.toString())];
  try {
    for (const [batch, n] of [
      [1, 1000],
      [100, 10_000],
    ] as const) {
      const rounds = new Map<string, number[][]>(systems.map((system) => [system.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const order = [...systems.slice(round % systems.length), ...systems.slice(0, round % systems.length)];
        for (const system of order) rounds.get(system.name)!.push(await measure(system, n, batch));
      }
      const results = new Map([...rounds].map(([system, rates]) => [system, [0, 1, 2].map((phase) => median(rates.map((r) => r[phase]!)))]));
      const ours = results.get('omniops')!;
      const rawRates = results.get('raw SQL')!;
      const boss = results.get('pg-boss')!;
      const rows = [...results].map(([system, rates]) => [system, ...rates]);
      const ratio = (a: number[], b: number[]) => a.map((x, i) => `${((x / b[i]!) * 100).toFixed(0)}%`);
      rows.push(['omniops / raw', ...ratio(ours, rawRates)], ['omniops / pg-boss', ...ratio(ours, boss)]);
      printTable(
        `Queue, batch size ${batch}, N = ${n.toLocaleString('en-US')}, median of ${ROUNDS} rounds (messages/s; goal omniops ≥ 90 % of raw)`,
        ['system', 'enqueue', 'claim+complete', '1 producer + 2 consumers'],
        rows,
      );
    }
  } finally {
    for (const system of systems) await system.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}
