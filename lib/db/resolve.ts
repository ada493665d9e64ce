/**
 * Picks the permanent-tier backend once per process: Supabase when its URL and service-role key are
 * set, else `DATABASE_URL`, else embedded PGlite in `OMNIOPS_DATA_DIR`. A remote primary is wrapped
 * in the outage fallback (lib/db/fallback.ts) when `DB_FALLBACK=embedded`.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '@/lib/config';
import { createLogger } from '@/lib/log';
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
      return new SupabaseDb(config.supabase!, { pingTimeoutMs: config.dbConnectTimeoutMs, requestTimeoutMs: config.dbStatementTimeoutMs });
    }
    case 'postgres': {
      const { PostgresDb } = await import('./postgres');
      // RPC only (no array types): see PostgresDbOptions.fetchTypes.
      return new PostgresDb(config.databaseUrl!, {
        connectTimeoutMs: config.dbConnectTimeoutMs,
        statementTimeoutMs: config.dbStatementTimeoutMs,
        fetchTypes: false,
      });
    }
    case 'pglite': {
      const { PgliteDb } = await import('./pglite');
      return PgliteDb.open(embeddedDbPath(config));
    }
  }
}

/**
 * The `Db` the app serves from: the configured backend, and — for a remote primary with
 * `DB_FALLBACK=embedded` — the outage fallback around it, already started (journal from a previous
 * run replayed; on the fallback if the primary does not answer).
 */
export async function openServingDb(config: Config): Promise<Db> {
  const primary = await openDb(config);
  if (primary.kind === 'pglite' || config.dbFallback !== 'embedded') return primary;
  if (config.isProduction) {
    createLogger('db').warn(
      `DB_FALLBACK=embedded in production: during an outage writes are kept in ${embeddedDbPath(config)} on this ` +
        'instance until the primary is back; the directory must persist and belong to this one instance',
    );
  }
  const [{ FallbackDb }, { openMigratedPglite }] = await Promise.all([import('./fallback'), import('./pglite')]);
  const dir = embeddedDbPath(config);
  const db = new FallbackDb({
    primary,
    openFallback: () => openMigratedPglite(dir),
    probeIntervalMs: config.dbProbeIntervalMs,
    pingTimeoutMs: config.dbProbeTimeoutMs,
    slowCallMs: config.dbSlowCallMs,
    failoverProbes: config.dbFailoverProbes,
  });
  await db.start({ hasJournal: fs.existsSync(dir) });
  return db;
}

const globalForDb = globalThis as typeof globalThis & { __omniopsDb?: Promise<Db> };

/** The process-wide `Db`, opened on first use and kept for the life of the process. */
export function resolveDb(config: Config): Promise<Db> {
  globalForDb.__omniopsDb ??= openServingDb(config).catch((error: unknown) => {
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
