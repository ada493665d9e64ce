/**
 * The two backends contract tests run on (`describe.each(backendKinds)`): a migrated PostgreSQL
 * database of its own, and a migrated in-memory PGlite. Both expose the Db port and raw SQL.
 */
import type { AdminCapable, Db, SqlAdmin } from '@/lib/db/types';
import { migratedPglite, migratedPostgres } from './databases';

export interface Backend {
  db: Db & AdminCapable;
  admin: SqlAdmin;
  /** The PostgreSQL database's URL (for a second connection); undefined on PGlite. */
  url: string | undefined;
  dispose(): Promise<void>;
}

export const backends: Record<'postgres' | 'pglite', () => Promise<Backend>> = {
  postgres: async () => {
    const pg = await migratedPostgres();
    return { db: pg.db, admin: pg.db.admin, url: pg.database.url, dispose: pg.dispose };
  },
  pglite: async () => {
    const db = await migratedPglite();
    return { db, admin: db.admin, url: undefined, dispose: () => db.close() };
  },
};

export const backendKinds = Object.keys(backends) as (keyof typeof backends)[];
