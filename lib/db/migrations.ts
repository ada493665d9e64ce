/**
 * Migration runner for `supabase/migrations/` (Supabase CLI layout: `<14-digit version>_<name>.sql`).
 *
 * Applied migrations are recorded in `supabase_migrations.schema_migrations` (version, statements,
 * name) — the table `supabase db push` uses — so the two agree on what is applied. Each migration
 * runs in its own transaction under an advisory lock, so concurrent runners apply each migration
 * once. Down migrations live in `supabase/rollbacks/` under the same file name, outside the
 * directory the CLI applies.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { SqlAdmin, SqlTx } from './types';

export interface Migration {
  version: string;
  name: string;
  /** File name, identical in migrations/ and rollbacks/. */
  file: string;
  sql: string;
  rollbackSql: string;
}

export interface MigrationState extends Pick<Migration, 'version' | 'name'> {
  applied: boolean;
}

const FILE_PATTERN = /^(\d{14})_([a-z0-9_]+)\.sql$/;
// Any constant works; it only has to be the same for every runner of this project.
const LOCK_KEY = 7_212_026_001;

export class MigrationError extends Error {
  override readonly name = 'MigrationError';
}

/** Read and validate the migrations under `<root>/supabase`, ordered by version. */
export function loadMigrations(root: string = process.cwd()): Migration[] {
  const dir = path.join(root, 'supabase', 'migrations');
  const rollbackDir = path.join(root, 'supabase', 'rollbacks');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Set<string>();
  return files.map((file) => {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`[omniops] [migrate] ${file}: name must be <14-digit version>_<snake_case_name>.sql`);
    const [, version, name] = match as unknown as [string, string, string];
    if (seen.has(version)) throw new MigrationError(`[omniops] [migrate] ${file}: version ${version} is used twice`);
    seen.add(version);
    const rollbackFile = path.join(rollbackDir, file);
    if (!fs.existsSync(rollbackFile)) {
      throw new MigrationError(`[omniops] [migrate] ${file}: missing its down migration supabase/rollbacks/${file}`);
    }
    return {
      version,
      name,
      file,
      sql: fs.readFileSync(path.join(dir, file), 'utf8'),
      rollbackSql: fs.readFileSync(rollbackFile, 'utf8'),
    };
  });
}

/** Serialise runners and make sure the history table exists (the same DDL as the Supabase CLI's). */
async function lockAndPrepare(tx: SqlTx): Promise<Set<string>> {
  await tx.query('select pg_advisory_xact_lock($1)', [LOCK_KEY]);
  await tx.exec(`
    create schema if not exists supabase_migrations;
    create table if not exists supabase_migrations.schema_migrations (version text not null primary key);
    alter table supabase_migrations.schema_migrations add column if not exists statements text[];
    alter table supabase_migrations.schema_migrations add column if not exists name text;
  `);
  const rows = await tx.query<{ version: string }>('select version from supabase_migrations.schema_migrations');
  return new Set(rows.map((r) => r.version));
}

async function apply(tx: SqlTx, m: Migration): Promise<void> {
  try {
    await tx.exec(m.sql);
  } catch (error) {
    throw new MigrationError(`[omniops] [migrate] ${m.file} failed: ${(error as Error).message}`, { cause: error });
  }
  await tx.query('insert into supabase_migrations.schema_migrations (version, statements, name) values ($1, $2, $3)', [
    m.version,
    [m.sql],
    m.name,
  ]);
}

/** Thrown inside a transaction to roll it back on purpose (dry runs). */
class DryRun<T> extends Error {
  constructor(readonly result: T) {
    super('dry run');
  }
}

async function dryRunTransaction<T>(admin: SqlAdmin, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
  try {
    await admin.transaction(async (tx) => {
      throw new DryRun(await fn(tx));
    });
  } catch (error) {
    if (error instanceof DryRun) return error.result as T;
    throw error;
  }
  throw new MigrationError('[omniops] [migrate] dry run unexpectedly committed');
}

export async function migrationStatus(admin: SqlAdmin, migrations: Migration[]): Promise<MigrationState[]> {
  const applied = await dryRunTransaction(admin, lockAndPrepare);
  return migrations.map(({ version, name }) => ({ version, name, applied: applied.has(version) }));
}

/**
 * Apply every pending migration, in version order, each in its own transaction. With `dryRun`, all
 * of them run in one transaction that is rolled back: the database is left exactly as it was.
 * Returns the migrations applied (or that would be).
 */
export async function migrate(
  admin: SqlAdmin,
  migrations: Migration[],
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<Migration[]> {
  if (dryRun) {
    return dryRunTransaction(admin, async (tx) => {
      const applied = await lockAndPrepare(tx);
      const pending = migrations.filter((m) => !applied.has(m.version));
      for (const m of pending) await apply(tx, m);
      return pending;
    });
  }
  const done: Migration[] = [];
  for (const m of migrations) {
    const ran = await admin.transaction(async (tx) => {
      if ((await lockAndPrepare(tx)).has(m.version)) return false; // applied meanwhile by another runner
      await apply(tx, m);
      return true;
    });
    if (ran) done.push(m);
  }
  return done;
}

/**
 * Revert the most recently applied migration with its down file and remove it from the history.
 * Returns it, or `undefined` when nothing is applied.
 */
export async function rollback(
  admin: SqlAdmin,
  migrations: Migration[],
  { dryRun = false }: { dryRun?: boolean } = {},
): Promise<Migration | undefined> {
  const revert = async (tx: SqlTx) => {
    const applied = await lockAndPrepare(tx);
    const last = [...applied].sort().at(-1);
    if (last === undefined) return undefined;
    const m = migrations.find((x) => x.version === last);
    if (!m) throw new MigrationError(`[omniops] [migrate] applied migration ${last} has no file here; cannot roll it back`);
    try {
      await tx.exec(m.rollbackSql);
    } catch (error) {
      throw new MigrationError(`[omniops] [migrate] rollback of ${m.file} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await tx.query('delete from supabase_migrations.schema_migrations where version = $1', [m.version]);
    return m;
  };
  return dryRun ? dryRunTransaction(admin, revert) : admin.transaction(revert);
}
