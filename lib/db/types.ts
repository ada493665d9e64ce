/**
 * The one data port (docs/architecture.md, "Layers"): every server-side data operation is a Postgres function taking one
 * `jsonb` argument and returning `jsonb`, defined in `supabase/migrations/`.
 */
export type DbKind = 'supabase' | 'postgres' | 'pglite';

export interface Db {
  readonly kind: DbKind;
  /** Call `fn(args::jsonb)`; resolves to its jsonb result (SQL `null` becomes `null`). Rejects with `DbError`. */
  rpc<T = unknown>(fn: string, args?: object): Promise<T>;
  /** Resolves when the backend answers; rejects with `DbError` otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Which backend serves, for health and metrics: present on the outage fallback (FallbackDb).
   * A method rather than an `instanceof` test, because the object may come from another copy of
   * the module (see DbError).
   */
  servingStatus?(): Promise<ServingStatus>;
  /** Whether the outage fallback serves now: `servingStatus().fallbackActive` without its journal read. */
  fallbackActive?(): boolean;
  /**
   * `servingStatus().generation` without its journal read (present on the outage fallback; a plain
   * backend is always generation 0).
   */
  readonly generation?: number;
  /**
   * Fail every call in flight with a connection error (08006) and use new connections from now
   * on: the outage fallback calls it when it leaves a primary that stopped answering.
   */
  abandonConnections?(): void;
}

/** What a `Db` reports about where its calls go (lib/db/fallback.ts). */
export interface ServingStatus {
  primary: DbKind;
  fallbackActive: boolean;
  /** Since when the fallback serves (ISO 8601), or null. */
  since: string | null;
  journalPending: number;
  journalFailed: number;
  /** Why the primary was last found unreachable. */
  lastError: string | null;
  /** Changes at every switch between primary and fallback. */
  generation: number;
}

/**
 * Raw SQL access, used only by the migration runner and test fixtures (never by domain code, which
 * goes through `Db.rpc`). Available on the `postgres` and `pglite` adapters; Supabase's Data API has
 * no SQL endpoint, so Supabase schemas are migrated through its Postgres connection string.
 */
export interface SqlTx {
  /** Run one or more statements without parameters (simple protocol). */
  exec(sql: string): Promise<void>;
  query<R extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface SqlAdmin extends SqlTx {
  /** Run `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
}

export interface AdminCapable {
  readonly admin: SqlAdmin;
}
