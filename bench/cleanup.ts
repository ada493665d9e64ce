/**
 * Cleanup of a backlog of expired message_queue rows while a writer keeps enqueueing (plain
 * INSERTs, one after the other): total time, and how long enqueues waited during it. Goals for 1 M rows on
 * PostgreSQL with the registered task: ≤ 10 s total, ≤ 100 ms longest enqueue.
 *
 * Rows, measured in the same run on the same table: enqueues with no cleanup (the wait
 * baseline); the registered task (batches of 5,000, each committed on its own); other batch sizes;
 * and the whole backlog in one statement (the time baseline: no round trips between batches).
 * PostgreSQL enqueues on a second connection; embedded PGlite has one connection, so its enqueues
 * queue behind whatever statement runs — which is what committing between batches is for.
 */
import crypto from 'node:crypto';
import postgres from 'postgres';
import { loadConfig } from '@/lib/config';
import { runCronTask, runSteps, type CronTask } from '@/lib/cron/run';
import { getCronTask } from '@/lib/cron/tasks';
import { createCustomer } from '@/lib/customers';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PgliteDb } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import type { AdminCapable, Db } from '@/lib/db/types';
import { benchPostgresUrl, median, printTable, withBenchDatabase } from './harness';

const GOAL_TOTAL_S = 10;
const GOAL_LONGEST_MS = 100;
/** How long the no-cleanup baseline enqueues for. */
const IDLE_MS = 3000;

type Backend = Db & AdminCapable;
type Enqueue = (customerId: string) => Promise<unknown>;

interface Measured {
  backend: string;
  scenario: string;
  deleted: number;
  seconds: number;
  enqueues: number[];
}

const enqueueSql = `insert into message_queue (customer_id, session_id, client_message_id, message_data)
                    values ($1, 'live', $2, '{"text":"hi"}')`;

/**
 * Run `work` while `enqueue` runs in a loop; returns the work's result and time, and each enqueue's
 * wait: the time since the previous enqueue finished, i.e. how long a writer that is always ready
 * waited for its row to be in. (Counted from the previous completion rather than from the call, so
 * that a wait for the event loop — the embedded database blocks its thread while a statement runs —
 * counts as much as a wait for a lock.)
 */
async function withEnqueues(enqueue: Enqueue, customerId: string, work: () => Promise<number>) {
  const waits: number[] = [];
  let running = true;
  const loop = (async () => {
    let previous = performance.now();
    // One enqueue after the work ends, too: a writer held up until then has waited as well.
    for (;;) {
      await enqueue(customerId);
      const done = performance.now();
      waits.push(done - previous);
      previous = done;
      if (!running) return;
      // PGlite answers in this thread through promise callbacks alone: without a turn of the event
      // loop, timers (the baseline's end) and the cleanup's own continuation would never run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const started = performance.now();
  try {
    const deleted = await work();
    return { deleted, seconds: (performance.now() - started) / 1000, enqueues: waits };
  } finally {
    running = false;
    await loop;
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function seed(db: Backend, customerId: string, backlog: number): Promise<void> {
  await db.admin.exec('truncate message_queue');
  await db.admin.query(
    `insert into message_queue (customer_id, session_id, client_message_id, message_data, status, processed_at, expires_at)
     select $1, 'old', 'old-' || i, '{"text":"hello"}', 'completed', now() - interval '1 day', now() - interval '1 minute'
       from generate_series(1, $2::int) i`,
    [customerId, backlog],
  );
  await db.admin.exec('vacuum analyze message_queue');
}

const batched = (batchSize: number): CronTask => ({
  name: `bench-cleanup-batch-${batchSize}`,
  schedule: '0 3 * * *',
  description: `cleanup-message-queue in batches of ${batchSize}`,
  run: (context) => runSteps(context, 'cron_cleanup_message_queue_step', { batchSize }),
});

/** Every scenario on one backend: `db` runs the cleanup, `enqueue` writes meanwhile. */
async function scenarios(label: string, db: Backend, enqueue: Enqueue, backlog: number, batchSizes: number[]): Promise<Measured[]> {
  await migrate(db.admin, loadMigrations());
  const { customer } = await createCustomer(db, { name: 'Bench Co' });
  const config = loadConfig({});
  const ranFor = async (task: CronTask) => {
    const outcome = await runCronTask(db, task, { config });
    if (outcome.outcome !== 'ran' || outcome.run.status !== 'succeeded') throw new Error(`[omniops] [bench] ${task.name} did not run`);
    return outcome.run.rowsAffected;
  };
  const runs: [string, () => Promise<number>][] = [
    ['no cleanup (baseline)', () => new Promise((resolve) => setTimeout(() => resolve(0), IDLE_MS))],
    ['registered task: batches of 5,000', () => ranFor(getCronTask('cleanup-message-queue'))],
    ...batchSizes.map((size): [string, () => Promise<number>] => [`batches of ${size.toLocaleString('en-US')}`, () => ranFor(batched(size))]),
    [
      'one statement (unbatched)',
      async () => {
        const [row] = await db.admin.query<{ n: number }>('select cleanup_expired_message_queue(p_batch_size => $1) as n', [backlog]);
        return row!.n;
      },
    ],
  ];
  const results: Measured[] = [];
  for (const [scenario, work] of runs) {
    if (results.length > 0) await seed(db, customer.id, backlog);
    results.push({ backend: label, scenario, ...(await withEnqueues(enqueue, customer.id, work)) });
  }
  return results;
}

async function postgresScenarios(url: string): Promise<Measured[]> {
  const db = new PostgresDb(url, { max: 2 });
  const writer = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await writer`select 1`;
    return await scenarios('postgres, 1 M rows', db, (customerId) => writer.unsafe(enqueueSql, [customerId, crypto.randomUUID()]), 1_000_000, [
      1000, 20_000,
    ]);
  } finally {
    await writer.end();
    await db.close();
  }
}

async function pgliteScenarios(): Promise<Measured[]> {
  const db = await PgliteDb.open('memory://');
  try {
    // 200k: seeding 1 M rows in WASM alone takes about a minute.
    return await scenarios('pglite, 200k rows', db, (customerId) => db.admin.query(enqueueSql, [customerId, crypto.randomUUID()]), 200_000, [
      20_000,
    ]);
  } finally {
    await db.close();
  }
}

function rows(results: Measured[]): (string | number)[][] {
  const baseline = results[0]!;
  const unbatched = results.at(-1)!;
  const baselineLongest = Math.max(...baseline.enqueues);
  return results.map((r, i) => {
    const longest = Math.max(...r.enqueues);
    const goal = r.backend.startsWith('postgres') && i === 1;
    return [
      r.backend,
      r.scenario,
      i === 0 ? '—' : r.deleted,
      i === 0 ? '—' : r.seconds.toFixed(2),
      i === 0 ? '—' : `${(r.seconds / unbatched.seconds).toFixed(2)}x`,
      String(r.enqueues.length),
      median(r.enqueues),
      percentile(r.enqueues, 99),
      longest,
      `${(longest / baselineLongest).toFixed(1)}x`,
      goal ? (r.seconds <= GOAL_TOTAL_S && longest <= GOAL_LONGEST_MS ? 'met' : 'MISSED') : '',
    ];
  });
}

export async function run(): Promise<void> {
  const results = await pgliteScenarios();
  try {
    results.unshift(...(await withBenchDatabase(postgresScenarios)));
  } catch (error) {
    console.log(`  (postgres skipped: ${benchPostgresUrl()} unreachable: ${(error as Error).message})`);
  }
  const backends = [...new Set(results.map((r) => r.backend))];
  printTable(
    'Cleanup of expired message_queue rows while a writer enqueues (total time; how long enqueues waited meanwhile)',
    ['backend', 'scenario', 'deleted', 'total s', 'vs 1 stmt', 'enqueues', 'median wait ms', 'p99 ms', 'longest ms', 'vs idle', `goal ≤ ${GOAL_TOTAL_S} s, ≤ ${GOAL_LONGEST_MS} ms`],
    backends.flatMap((backend) => rows(results.filter((r) => r.backend === backend))),
  );
}
