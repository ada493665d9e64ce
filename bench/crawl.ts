/**
 * The crawl audit trail's write cost: inserting page results into `scrape_job_results`, one row per
 * statement as the crawler records them, with the `scrape_job_stats` trigger maintaining the job's
 * counters.
 *
 * 1. Per-insert cost at result #1,000 vs #100,000 of one job (goal ≤ 1.1×): the trigger adds each
 *    statement's rows to the job's single stats row (one upsert, `INSERT … ON CONFLICT DO UPDATE`),
 *    so its cost is O(1) per inserted result whatever the job's size — it never re-aggregates.
 * 2. The trigger's overhead: the same single-row inserts with the trigger disabled vs enabled
 *    (goal ≤ 1.5×), measured in alternating rounds on the same table, same size.
 *
 * On PostgreSQL (a throw-away database) and on embedded PGlite (in memory). Figures only; nothing
 * here asserts a timing.
 */
import { createCustomer } from '@/lib/customers';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { openMigratedPglite } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import type { AdminCapable, Db } from '@/lib/db/types';
import { median, printTable, withBenchDatabase } from './harness';

const SMALL = 1_000;
const LARGE = 100_000;
/** Single-row inserts timed per measurement. */
const WINDOW = 2_000;
const ROUNDS = 5;
const GOAL_GROWTH = 1.1;
const GOAL_TRIGGER = 1.5;

type Backend = Db & AdminCapable;

const insertOne = `insert into scrape_job_results (job_id, customer_id, url, status, http_status, processing_time_ms, bytes)
                   values ($1, $2, $3, 'success', 200, $4, 1500)`;

async function newJob(db: Backend, customerId: string, jobId: string): Promise<void> {
  await db.admin.query(`insert into scrape_jobs (job_id, customer_id, domain, status) values ($1, $2, 'site.example', 'running')`, [
    jobId,
    customerId,
  ]);
}

/** Rows `from`..`to` of a job in one statement (the trigger runs once for them). */
async function fill(db: Backend, customerId: string, jobId: string, from: number, to: number): Promise<void> {
  if (to < from) return;
  await db.admin.query(
    `insert into scrape_job_results (job_id, customer_id, url, status, http_status, processing_time_ms, bytes)
     select $1, $2, 'https://site.example/p' || i, case when i % 10 = 0 then 'failed' else 'success' end, 200, i % 50, 1500
       from generate_series($3::int, $4::int) i`,
    [jobId, customerId, from, to],
  );
}

/** Mean µs per single-row insert of `count` results numbered from `first`. */
async function timeInserts(db: Backend, customerId: string, jobId: string, first: number, count: number): Promise<number> {
  const started = performance.now();
  for (let i = first; i < first + count; i++) {
    await db.admin.query(insertOne, [jobId, customerId, `https://site.example/p${i}`, i % 50]);
  }
  return ((performance.now() - started) * 1000) / count;
}

async function measure(name: string, db: Backend): Promise<(string | number)[][]> {
  const { customer } = await createCustomer(db, { name: 'Bench crawl', plan: 'enterprise' });
  const c = customer.id;

  // 1. One job: the window starting at #1,000, then at #100,000.
  await newJob(db, c, 'growth');
  await fill(db, c, 'growth', 1, SMALL - 1);
  const atSmall = await timeInserts(db, c, 'growth', SMALL, WINDOW);
  await fill(db, c, 'growth', SMALL + WINDOW, LARGE - 1);
  const atLarge = await timeInserts(db, c, 'growth', LARGE, WINDOW);
  const [stats] = await db.admin.query<{ total: number; counted: number }>(
    `select s.total_pages as total, (select count(*)::int from scrape_job_results r where r.job_id = 'growth') as counted
       from scrape_job_stats s where s.job_id = 'growth'`,
  );

  // 2. Trigger on vs off, alternating rounds, each into its own job of the same size.
  await newJob(db, c, 'with-trigger');
  await newJob(db, c, 'without-trigger');
  const on: number[] = [];
  const off: number[] = [];
  let next = 1;
  for (let round = 0; round < ROUNDS; round++) {
    const first = next;
    next += WINDOW;
    const withTrigger = () => timeInserts(db, c, 'with-trigger', first, WINDOW).then((us) => on.push(us));
    const withoutTrigger = async () => {
      await db.admin.exec('alter table scrape_job_results disable trigger scrape_job_results_stats_add');
      try {
        off.push(await timeInserts(db, c, 'without-trigger', first, WINDOW));
      } finally {
        await db.admin.exec('alter table scrape_job_results enable trigger scrape_job_results_stats_add');
      }
    };
    if (round % 2 === 0) {
      await withTrigger();
      await withoutTrigger();
    } else {
      await withoutTrigger();
      await withTrigger();
    }
  }
  const growth = atLarge / atSmall;
  const overhead = median(on) / median(off);
  return [
    [name, `#${SMALL.toLocaleString('en-US')}`, atSmall, '', ''],
    [name, `#${LARGE.toLocaleString('en-US')}`, atLarge, `${growth.toFixed(2)}× of #1,000`, growth <= GOAL_GROWTH ? 'met' : 'NOT met'],
    [name, 'trigger off', median(off), '', ''],
    [name, 'trigger on', median(on), `${overhead.toFixed(2)}× of off`, overhead <= GOAL_TRIGGER ? 'met' : 'NOT met'],
    [name, 'stats exact', stats!.total === stats!.counted ? `${stats!.total} = count(*)` : `${stats!.total} ≠ ${stats!.counted}`, '', ''],
  ];
}

export async function run(): Promise<void> {
  const rows: (string | number)[][] = [];
  await withBenchDatabase(async (url) => {
    const db = new PostgresDb(url, { max: 2 });
    try {
      await migrate(db.admin, loadMigrations());
      rows.push(...(await measure('postgres', db)));
    } finally {
      await db.close();
    }
  });
  const embedded = await openMigratedPglite('memory://');
  try {
    rows.push(...(await measure('pglite', embedded)));
  } finally {
    await embedded.close();
  }
  printTable(
    `crawl results: µs per single-row insert into scrape_job_results (window of ${WINDOW.toLocaleString('en-US')}; goals: #100,000 ≤ ${GOAL_GROWTH}× #1,000, trigger ≤ ${GOAL_TRIGGER}× no trigger)`,
    ['backend', 'at', 'µs / insert', 'ratio', 'goal'],
    rows,
  );
}
