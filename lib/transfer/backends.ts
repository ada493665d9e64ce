/**
 * The backends a transfer names on the command line:
 *
 *   embedded             the embedded PGlite in OMNIOPS_DATA_DIR (created and migrated if new, as
 *                        `npm start` does)
 *   postgres://…         any PostgreSQL (its schema migrated with `npm run db:migrate -- --url …`)
 *   supabase             the Supabase project of NEXT_PUBLIC_SUPABASE_URL + SUPABASE_SECRET_KEY (or SUPABASE_SERVICE_ROLE_KEY)
 *   configured           whatever the app itself uses (Supabase, else DATABASE_URL, else embedded)
 *
 * Every one is reached through the `Db` port, so a transfer works the same on all of them.
 */
import { type Config } from '@/lib/config';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { openAdminDb, openDb, primaryKind } from '@/lib/db/resolve';
import type { Db, DbKind } from '@/lib/db/types';
import { TransferError } from './errors';
import type { Endpoint } from './migrate';

export interface BackendSpec {
  kind: DbKind;
  /** For messages and listings; a URL's password is masked. */
  label: string;
  url?: string;
}

/**
 * Requests of a transfer may take long: the commit of a large customer moves all its staged rows
 * in one call. (The app's own requests keep DB_STATEMENT_TIMEOUT_MS.)
 */
const TRANSFER_TIMEOUT_MS = 15 * 60_000;

function maskUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

export function parseBackend(spec: string, config: Config): BackendSpec {
  if (spec === 'configured') {
    const kind = primaryKind(config);
    if (kind === 'postgres') return parseBackend(config.databaseUrl!, config);
    return parseBackend(kind === 'pglite' ? 'embedded' : 'supabase', config);
  }
  if (spec === 'embedded') return { kind: 'pglite', label: `embedded PGlite (${config.dataDir})` };
  if (spec === 'supabase') {
    if (!config.supabase) {
      throw new TransferError('unreachable', 'supabase: set NEXT_PUBLIC_SUPABASE_URL and SUPABASE_SECRET_KEY to use the Supabase project');
    }
    return { kind: 'supabase', label: `supabase (${config.supabase.url})` };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      return { kind: 'postgres', label: maskUrl(spec), url: spec };
    } catch {
      throw new TransferError('unreachable', `not a valid PostgreSQL URL: ${spec.replace(/:[^:@/]*@/, ':***@')}`);
    }
  }
  throw new TransferError('unreachable', `unknown backend "${spec}": use embedded, supabase, configured or a postgres:// URL`);
}

/** The backends this configuration knows of: the embedded database, DATABASE_URL, Supabase. */
export function configuredBackends(config: Config): BackendSpec[] {
  const specs = [parseBackend('embedded', config)];
  if (config.databaseUrl) specs.push(parseBackend(config.databaseUrl, config));
  if (config.supabase) specs.push(parseBackend('supabase', config));
  return specs;
}

async function connect(spec: BackendSpec, config: Config): Promise<Db> {
  const local = { ...config, supabase: undefined, databaseUrl: undefined };
  switch (spec.kind) {
    case 'pglite': {
      const db = await openAdminDb(local);
      try {
        await migrate(db.admin, loadMigrations());
      } catch (error) {
        await db.close();
        throw error;
      }
      return db;
    }
    case 'postgres':
      return openDb({ ...local, databaseUrl: spec.url, dbStatementTimeoutMs: TRANSFER_TIMEOUT_MS });
    case 'supabase': {
      const { SupabaseDb } = await import('@/lib/db/supabase');
      return new SupabaseDb(config.supabase!, {
        requestTimeoutMs: TRANSFER_TIMEOUT_MS,
        pingTimeoutMs: config.dbConnectTimeoutMs,
      });
    }
  }
}

/** Open and ping a backend; an unreachable one (or an embedded database in use) is a TransferError 'unreachable'. */
export async function openBackend(spec: BackendSpec, config: Config): Promise<Endpoint> {
  let db: Db | undefined;
  try {
    db = await connect(spec, config);
    await db.ping();
    return { db, label: spec.label };
  } catch (error) {
    await db?.close().catch(() => undefined); // already failing: the reason below is what matters
    throw new TransferError('unreachable', `${spec.label} is unreachable: ${(error as Error).message}`, { cause: error });
  }
}
