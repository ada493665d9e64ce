/**
 * The migration runner on a fresh real PostgreSQL database and a fresh PGlite: dry runs change
 * nothing, every down migration exactly undoes its up migration, concurrent runners apply each
 * migration once, and the `npm run db:migrate` CLI does what its flags say.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate, migrationStatus, rollback } from '@/lib/db/migrations';
import { PostgresDb } from '@/lib/db/postgres';
import type { SqlAdmin } from '@/lib/db/types';
import { createTestDatabase, emptySqlBackends, type EmptySqlBackend, type TestDatabase } from '../support/databases';
import { schemaFingerprint } from '../support/sql';

const migrations = loadMigrations();

async function historyVersions(admin: SqlAdmin): Promise<string[] | null> {
  const [exists] = await admin.query<{ t: string | null }>(`select to_regclass('supabase_migrations.schema_migrations')::text as t`);
  if (!exists?.t) return null;
  const rows = await admin.query<{ version: string }>('select version from supabase_migrations.schema_migrations order by 1');
  return rows.map((r) => r.version);
}

describe.each(['postgres', 'pglite'] as const)('migrations on %s', (kind) => {
  let backend: EmptySqlBackend;
  let admin: SqlAdmin;
  let empty: string;

  beforeAll(async () => {
    backend = await emptySqlBackends[kind]();
    admin = backend.admin;
    empty = await schemaFingerprint(admin);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('has a down migration for every migration, in version order', () => {
    expect(migrations.length).toBeGreaterThanOrEqual(5);
    expect(migrations.map((m) => m.version)).toEqual([...migrations.map((m) => m.version)].sort());
    for (const m of migrations) expect(m.rollbackSql.trim().length, m.file).toBeGreaterThan(0);
  });

  it('--dry-run lists every pending migration and leaves the database unchanged', async () => {
    const wouldApply = await migrate(admin, migrations, { dryRun: true });
    expect(wouldApply.map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    expect(await schemaFingerprint(admin)).toBe(empty);
    expect(await historyVersions(admin)).toBeNull();
    expect((await migrationStatus(admin, migrations)).every((m) => !m.applied)).toBe(true);
  });

  it('applies all migrations once and records them where the Supabase CLI does', async () => {
    const applied = await migrate(admin, migrations);
    expect(applied.map((m) => m.version)).toEqual(migrations.map((m) => m.version));
    expect(await historyVersions(admin)).toEqual(migrations.map((m) => m.version));
    const [row] = await admin.query<{ name: string; statements: string[] }>(
      'select name, statements from supabase_migrations.schema_migrations order by version limit 1',
    );
    expect(row).toEqual({ name: migrations[0]!.name, statements: [migrations[0]!.sql] });
    expect(await migrate(admin, migrations)).toEqual([]);
    expect(await migrate(admin, migrations, { dryRun: true })).toEqual([]);
  });

  it('--rollback then re-apply round-trips to the same schema', async () => {
    const full = await schemaFingerprint(admin);
    const reverted = await rollback(admin, migrations);
    expect(reverted?.version).toBe(migrations.at(-1)!.version);
    expect(await schemaFingerprint(admin)).not.toBe(full);
    expect(await historyVersions(admin)).toEqual(migrations.slice(0, -1).map((m) => m.version));

    // A dry-run rollback changes nothing either.
    const before = await schemaFingerprint(admin);
    expect((await rollback(admin, migrations, { dryRun: true }))?.version).toBe(migrations.at(-2)!.version);
    expect(await schemaFingerprint(admin)).toBe(before);

    expect((await migrate(admin, migrations)).map((m) => m.version)).toEqual([migrations.at(-1)!.version]);
    expect(await schemaFingerprint(admin)).toBe(full);
  });

  it('rolling back every migration restores the empty database', async () => {
    for (let i = 0; i < migrations.length; i++) expect(await rollback(admin, migrations)).toBeDefined();
    expect(await rollback(admin, migrations)).toBeUndefined();
    const [history] = await admin.query<{ n: number }>('select count(*)::int as n from supabase_migrations.schema_migrations');
    expect(history!.n).toBe(0);
    await admin.exec('drop schema supabase_migrations cascade');
    expect(await schemaFingerprint(admin)).toBe(empty);
  });

  it('leaves a failing migration unapplied', async () => {
    const broken = [...migrations, { ...migrations[0]!, version: '29991231000000', name: 'broken', file: '29991231000000_broken.sql', sql: 'create table ok_so_far (id int); select 1/0;' }];
    await expect(migrate(admin, broken)).rejects.toThrow(/29991231000000_broken\.sql failed: division by zero/);
    expect(await historyVersions(admin)).toEqual(migrations.map((m) => m.version));
    const [t] = await admin.query<{ t: string | null }>(`select to_regclass('public.ok_so_far')::text as t`);
    expect(t!.t).toBeNull();
  });
});

describe('migrations on postgres, concurrently', () => {
  it('two runners at once apply each migration exactly once', async () => {
    const database = await createTestDatabase();
    const a = new PostgresDb(database.url);
    const b = new PostgresDb(database.url);
    try {
      const [ranA, ranB] = await Promise.all([migrate(a.admin, migrations), migrate(b.admin, migrations)]);
      expect([...ranA, ...ranB].map((m) => m.version).sort()).toEqual(migrations.map((m) => m.version));
      expect(await historyVersions(a.admin)).toEqual(migrations.map((m) => m.version));
    } finally {
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});

describe('npm run db:migrate (CLI)', () => {
  const run = promisify(execFile);
  const root = path.resolve(import.meta.dirname, '../..');
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database?.drop();
  });

  const cli = (...args: string[]) =>
    run(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/migrate.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: database.url },
    });

  it('--dry-run, apply, --status and --rollback against DATABASE_URL', async () => {
    const db = new PostgresDb(database.url);
    try {
      const empty = await schemaFingerprint(db.admin);
      const dry = await cli('--dry-run');
      for (const m of migrations) expect(dry.stdout).toContain(`[dry run] would apply ${m.file}`);
      expect(dry.stdout).toContain('the database is unchanged');
      expect(await schemaFingerprint(db.admin)).toBe(empty);

      const applied = await cli();
      for (const m of migrations) expect(applied.stdout).toContain(`applied ${m.file}`);
      expect((await cli()).stdout).toContain('is up to date');

      const status = await cli('--status');
      expect(status.stdout.trim().split('\n')).toEqual(migrations.map((m) => `applied  ${m.version}_${m.name}`));

      const reverted = await cli('--rollback');
      expect(reverted.stdout).toContain(`reverted ${migrations.at(-1)!.file}`);
      expect(await historyVersions(db.admin)).toEqual(migrations.slice(0, -1).map((m) => m.version));
    } finally {
      await db.close();
    }
  });

  it('fails with a message naming a bad variable', async () => {
    await expect(
      run(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/migrate.ts'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: 'mysql://nope' },
      }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('DATABASE_URL: must be a postgres:// or postgresql:// URL') });
  });
});
