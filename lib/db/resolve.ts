/**
 * Picks the permanent-tier backend once per process: Supabase when its URL and service-role key are
 * set, else `DATABASE_URL`, else embedded PGlite in `OMNIOPS_DATA_DIR`.
 *
 * Seam for the outage fallback (issue 8): `resolveDb` returns a `Db`; a fallback wrapper that
 * implements the same interface can wrap the primary here without touching any caller.
 */
import path from 'node:path';
import type { Config } from '@/lib/config';
import type { PgliteDb } from './pglite';
import type { PostgresDb } from './postgres';
import type { Db, DbKind } from './types';

// Adapters are imported on first use: a process loads only the driver it needs (supabase-js, for
// one, prints a deprecation banner on Node 20 as soon as it is imported).

/** Where the embedded database lives inside the data directory. */
export function embeddedDbPath(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, 'pglite');
}

export function primaryKind(config: Config): DbKind {
  if (config.supabase) return 'supabase';
  if (config.databaseUrl) return 'postgres';
  return 'pglite';
}

/** Open a new connection to the configured backend. Callers own it and must `close()` it. */
export async function openDb(config: Config): Promise<Db> {
  switch (primaryKind(config)) {
    case 'supabase': {
      const { SupabaseDb } = await import('./supabase');
      return new SupabaseDb(config.supabase!, { pingTimeoutMs: config.dbConnectTimeoutMs });
    }
    case 'postgres': {
      const { PostgresDb } = await import('./postgres');
      return new PostgresDb(config.databaseUrl!, { connectTimeoutMs: config.dbConnectTimeoutMs });
    }
    case 'pglite': {
      const { PgliteDb } = await import('./pglite');
      return PgliteDb.open(embeddedDbPath(config));
    }
  }
}

const globalForDb = globalThis as typeof globalThis & { __omniopsDb?: Promise<Db> };

/** The process-wide `Db`, opened on first use and kept for the life of the process. */
export function resolveDb(config: Config): Promise<Db> {
  globalForDb.__omniopsDb ??= openDb(config).catch((error: unknown) => {
    globalForDb.__omniopsDb = undefined; // let the next call retry instead of caching the failure
    throw error;
  });
  return globalForDb.__omniopsDb;
}

/**
 * A backend with raw SQL access, for migrations: `url` when given, else `DATABASE_URL`, else the
 * embedded PGlite. Supabase's Data API cannot run DDL, so a Supabase-only configuration must
 * provide its Postgres connection string as `DATABASE_URL` (or use `supabase db push`).
 */
export async function openAdminDb(config: Config, url?: string): Promise<PostgresDb | PgliteDb> {
  const target = url ?? config.databaseUrl;
  if (target) {
    const { PostgresDb } = await import('./postgres');
    return new PostgresDb(target, { connectTimeoutMs: config.dbConnectTimeoutMs, max: 1 });
  }
  if (config.supabase) {
    throw new Error(
      '[omniops] [db] Supabase is configured without DATABASE_URL: set DATABASE_URL to the project\'s Postgres ' +
        'connection string (Project Settings → Database), or apply supabase/migrations with `supabase db push`.',
    );
  }
  const { PgliteDb } = await import('./pglite');
  return PgliteDb.open(embeddedDbPath(config));
}
