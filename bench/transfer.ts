/**
 * Moving a customer of 100 k messages between embedded PGlite and the real PostgreSQL server:
 * rows/s of the export (Db port, keyset pages, sanitising, checksums, NDJSON file) and of the
 * import (verify the file, stage, one atomic commit), with the peak heap and RSS of this process
 * during each. Baselines measured in the same run on the same data: the same rows read in the same
 * keyset pages with raw SQL and written as NDJSON with no checks; and the file's rows inserted
 * straight into the live tables with raw SQL in batches of 1,000 (no verification, no staging, not
 * atomic). The ratio is the price of the port, the checksums and the all-or-nothing import.
 * RSS includes the embedded database's WASM memory, which holds its whole data set. The files
 * carry the widget key (--include-public-key) so the baseline can insert the customer as it is.
 * Tables are analysed before they are read: without statistics the baseline's plain keyset query
 * may sort the whole remaining customer for every page.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { createCustomer } from '@/lib/customers';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PgliteDb } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import type { AdminCapable, Db } from '@/lib/db/types';
import { exportToFile } from '@/lib/transfer/export';
import { importFile } from '@/lib/transfer/import';
import { printTable, withBenchDatabase } from './harness';

const MESSAGES = 100_000;
const PAGE = 1000;

type Backend = Db & AdminCapable;

interface Measured {
  seconds: number;
  peakHeap: number;
  peakRss: number;
}

async function measure(fn: () => Promise<unknown>): Promise<Measured> {
  const before = process.memoryUsage();
  let peakHeap = before.heapUsed;
  let peakRss = before.rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 10);
  const started = performance.now();
  try {
    await fn();
    return { seconds: (performance.now() - started) / 1000, peakHeap, peakRss };
  } finally {
    clearInterval(timer);
  }
}

async function seed(db: Backend): Promise<string> {
  const { customer } = await createCustomer(db, { name: 'Bench Co', plan: 'enterprise' });
  await db.admin.query(`insert into conversations (customer_id, session_id) select $1, 's-' || i from generate_series(1, 200) i`, [customer.id]);
  await db.admin.query(
    `insert into messages (conversation_id, customer_id, role, content, client_message_id, created_at)
     select c.id, $1, 'visitor', 'visitor message number ' || i || ' with some text', 'm-' || i, now() - make_interval(secs => i)
       from generate_series(1, $2::int) i
       join conversations c on c.customer_id = $1 and c.session_id = 's-' || (1 + i % 200)`,
    [customer.id, MESSAGES],
  );
  await db.admin.exec('analyze');
  return customer.id;
}

/** Baseline export: the same rows in the same keyset pages with raw SQL, written as NDJSON unchecked. */
async function rawExport(db: Backend, customerId: string, file: string): Promise<void> {
  const out = fs.createWriteStream(file);
  const write = (text: string) => (out.write(text) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  for (const row of await db.admin.query(`select to_jsonb(c) as j from customers c where id = $1`, [customerId])) {
    await write(`${JSON.stringify({ table: 'customers', row: row.j })}\n`);
  }
  for (const row of await db.admin.query(`select to_jsonb(c) as j from conversations c where customer_id = $1 order by session_id`, [customerId])) {
    await write(`${JSON.stringify({ table: 'conversations', row: row.j })}\n`);
  }
  let after: [string, string] | null = null;
  for (;;) {
    const page: { j: Record<string, string> }[] = await db.admin.query<{ j: Record<string, string> }>(
      `select to_jsonb(m) as j from messages m where customer_id = $1${after ? ' and (created_at, id) > ($2::timestamptz, $3::uuid)' : ''}
        order by created_at, id limit ${PAGE}`,
      after ? [customerId, ...after] : [customerId],
    );
    for (const row of page) await write(`${JSON.stringify({ table: 'messages', row: row.j })}\n`);
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!.j;
    after = [last.created_at!, last.id!];
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** Baseline import: the file's rows straight into the live tables, 1,000 per statement, no checks. */
async function rawImport(db: Backend, file: string): Promise<void> {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let table = '';
  let batch: unknown[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await db.admin.query(
      table === 'messages'
        ? `insert into messages (id, conversation_id, customer_id, role, content, client_message_id, position, metadata, created_at)
           select id, conversation_id, customer_id, role, content, client_message_id, position, metadata, created_at
             from jsonb_populate_recordset(null::messages, $1)`
        : `insert into ${table} select * from jsonb_populate_recordset(null::${table}, $1)`,
      [batch],
    );
    batch = [];
  };
  for await (const text of lines) {
    const parsed = JSON.parse(text) as { type?: string; table?: string; row?: unknown };
    if (!parsed.table || parsed.type === 'header' || parsed.type === 'footer') continue;
    if (parsed.table !== table || batch.length >= PAGE) await flush();
    table = parsed.table;
    batch.push(parsed.row);
  }
  await flush();
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

export async function run(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-bench-transfer-'));
  const rows: (string | number)[][] = [];
  const record = (scenario: string, how: string, count: number, m: Measured, baseline?: Measured) =>
    rows.push([scenario, how, count, m.seconds.toFixed(2), count / m.seconds, baseline ? `${(baseline.seconds / m.seconds).toFixed(2)}x` : '1.00x', mib(m.peakHeap), mib(m.peakRss)]);
  const migrations = loadMigrations();
  const freshPglite = async () => {
    const db = await PgliteDb.open('memory://');
    await migrate(db.admin, migrations);
    return db;
  };
  const source = await freshPglite();
  try {
    const customerId = await seed(source);
    const total = MESSAGES + 200 + 1;
    const file = path.join(dir, 'pglite.ndjson');

    const rawOut = await measure(() => rawExport(source, customerId, path.join(dir, 'raw.ndjson')));
    record('PGlite → file', 'raw SQL pages (baseline)', total, rawOut);
    const out = await measure(() => exportToFile(source, customerId, file, { includeSecrets: true }));
    record('PGlite → file', 'export', total, out, rawOut);

    await withBenchDatabase(async (rawUrl) => {
      await withBenchDatabase(async (url) => {
        const [raw, target] = [new PostgresDb(rawUrl), new PostgresDb(url)];
        try {
          await migrate(raw.admin, migrations);
          await migrate(target.admin, migrations);
          const rawIn = await measure(() => rawImport(raw, file));
          record('file → PostgreSQL', 'raw inserts (baseline)', total, rawIn);
          const into = await measure(() => importFile(target, file));
          record('file → PostgreSQL', 'import', total, into, rawIn);
          // Fresh statistics for the baseline's queries, as autovacuum would give them in time.
          await target.admin.exec('analyze');

          const pgFile = path.join(dir, 'postgres.ndjson');
          const rawPgOut = await measure(() => rawExport(target, customerId, path.join(dir, 'raw-pg.ndjson')));
          record('PostgreSQL → file', 'raw SQL pages (baseline)', total, rawPgOut);
          const pgOut = await measure(() => exportToFile(target, customerId, pgFile, { includeSecrets: true }));
          record('PostgreSQL → file', 'export', total, pgOut, rawPgOut);

          const [rawBack, back] = [await freshPglite(), await freshPglite()];
          try {
            const rawBackIn = await measure(() => rawImport(rawBack, pgFile));
            record('file → PGlite', 'raw inserts (baseline)', total, rawBackIn);
            const backIn = await measure(() => importFile(back, pgFile));
            record('file → PGlite', 'import', total, backIn, rawBackIn);
          } finally {
            await Promise.all([rawBack.close(), back.close()]);
          }
        } finally {
          await Promise.all([raw.close(), target.close()]);
        }
      });
    });
    printTable(
      `transfer: a customer of ${MESSAGES.toLocaleString('en-US')} messages (${mib(fs.statSync(file).size)} MiB file); peak heap and RSS of this process in MiB`,
      ['scenario', 'how', 'rows', 's', 'rows/s', 'vs baseline', 'heap', 'rss'],
      rows,
    );
  } finally {
    await source.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
