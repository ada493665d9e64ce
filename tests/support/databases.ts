/**
 * Isolated databases for test files: each file works in its own PostgreSQL database (created and
 * dropped) or its own in-memory PGlite, so files run in parallel and leave nothing behind.
 */
import crypto from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PgliteDb, openMigratedPglite } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import type { AdminCapable, Db, SqlAdmin } from '@/lib/db/types';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database on the run's PostgreSQL server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('postgresUrl');
  // Named with the run (tests/support/leftovers.ts), so that the run's end, or a later run if this
  // one is interrupted, drops it even when the file that made it could not.
  const name = `${inject('databasePrefix')}${crypto.randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await sql.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await sql.end();
      }
    },
  };
}

/** A migrated PostgreSQL database and an adapter on it; `dispose()` closes and drops it. */
export async function migratedPostgres(): Promise<{ db: PostgresDb; database: TestDatabase; dispose(): Promise<void> }> {
  const database = await createTestDatabase();
  const db = new PostgresDb(database.url, { max: 10 });
  await migrate(db.admin, loadMigrations());
  return {
    db,
    database,
    async dispose() {
      await db.close();
      await database.drop();
    },
  };
}

/** A migrated in-memory PGlite. */
export function migratedPglite(): Promise<PgliteDb> {
  return openMigratedPglite('memory://');
}

export interface SqlBackend {
  db: Db & AdminCapable;
  admin: SqlAdmin;
  /** The PostgreSQL database's URL (for a second connection); undefined on PGlite. */
  url: string | undefined;
  dispose(): Promise<void>;
}

/**
 * The two SQL backends every schema-level suite runs on: a migrated database of its own on the real
 * PostgreSQL server, and a migrated in-memory PGlite. Use with `describe.each(sqlBackendKinds)`.
 */
export const sqlBackends: Record<'postgres' | 'pglite', () => Promise<SqlBackend>> = {
  postgres: async () => {
    const pg = await migratedPostgres();
    return { db: pg.db, admin: pg.db.admin, url: pg.database.url, dispose: pg.dispose };
  },
  pglite: async () => {
    const db = await migratedPglite();
    return { db, admin: db.admin, url: undefined, dispose: () => db.close() };
  },
};

export const sqlBackendKinds = Object.keys(sqlBackends) as (keyof typeof sqlBackends)[];

/** An empty database (no migrations applied) and how to close it. */
export interface EmptySqlBackend {
  admin: SqlAdmin;
  close(): Promise<void>;
}

/** A new, empty database of each kind: one of its own on the PostgreSQL server, an in-memory PGlite. */
export const emptySqlBackends: Record<'postgres' | 'pglite', () => Promise<EmptySqlBackend>> = {
  postgres: async () => {
    const database = await createTestDatabase();
    const db = new PostgresDb(database.url);
    return {
      admin: db.admin,
      async close() {
        await db.close();
        await database.drop();
      },
    };
  },
  pglite: async () => {
    const db = await PgliteDb.open('memory://');
    return { admin: db.admin, close: () => db.close() };
  },
};
