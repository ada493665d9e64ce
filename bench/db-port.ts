/**
 * The cost of the `Db` port: `db.rpc('system_echo', args)` against the same SQL
 * (`select "system_echo"($1::jsonb)`) sent directly through the driver, on embedded PGlite and on
 * the real PostgreSQL server. Goal: the port costs at most 10 % over the raw driver.
 */
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PgliteDb } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import { benchPostgresUrl, compare, printTable, withBenchDatabase } from './harness';

const SQL = 'select "system_echo"($1::jsonb) as r';
const args = (i: number) => ({ i, text: 'hello', tags: ['a', 'b'] });
const GOAL = 1.1;

type Row = (string | number)[];

function row(backend: string, mode: string, r: { baseline: number; subject: number }): Row {
  const overhead = r.baseline / r.subject - 1;
  return [
    backend,
    mode,
    r.baseline,
    r.subject,
    (r.subject / r.baseline).toFixed(3),
    `${overhead >= 0 ? '+' : ''}${(overhead * 100).toFixed(1)}%`,
    r.baseline / r.subject <= GOAL ? 'met' : 'MISSED',
  ];
}

async function pgliteRows(): Promise<Row[]> {
  const migrations = loadMigrations();
  const port = await PgliteDb.open('memory://');
  await migrate(port.admin, migrations);
  const raw = await PGlite.create();
  for (const m of migrations) await raw.exec(m.sql);
  try {
    const r = await compare(
      (i) => raw.query(SQL, [args(i)]),
      (i) => port.rpc('system_echo', args(i)),
      { count: 5000, rounds: 7 },
    );
    return [row('pglite', 'sequential', r)];
  } finally {
    await port.close();
    await raw.close();
  }
}

async function postgresRows(url: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [mode, concurrency] of [
    ['sequential', 1],
    ['16 in flight', 16],
  ] as const) {
    const port = new PostgresDb(url, { max: concurrency });
    await migrate(port.admin, loadMigrations());
    const raw = postgres(url, { max: concurrency, prepare: true, onnotice: () => {} });
    try {
      const r = await compare(
        (i) => raw.unsafe(SQL, [args(i)], { prepare: true }),
        (i) => port.rpc('system_echo', args(i)),
        { count: concurrency === 1 ? 3000 : 20_000, rounds: 7, concurrency },
      );
      rows.push(row('postgres', mode, r));
    } finally {
      await port.close();
      await raw.end();
    }
  }
  return rows;
}

export async function run(): Promise<void> {
  const rows = await pgliteRows();
  try {
    rows.push(...(await withBenchDatabase(postgresRows)));
  } catch (error) {
    console.log(`  (postgres skipped: ${benchPostgresUrl()} unreachable: ${(error as Error).message})`);
  }
  printTable(
    'Db port vs raw driver — system_echo round trip (median of 7 interleaved rounds)',
    ['backend', 'mode', 'raw ops/s', 'port ops/s', 'port/raw', 'overhead', `goal ≤ +${Math.round((GOAL - 1) * 100)}%`],
    rows,
  );
}
