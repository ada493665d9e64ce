/**
 * Any PostgreSQL server over TCP (`DATABASE_URL`), through the `postgres` driver.
 */
import postgres from 'postgres';
import { assertFunctionName, fromDriverError, fromTransactionError } from './errors';
import type { AdminCapable, Db, SqlAdmin, SqlTx } from './types';

export interface PostgresDbOptions {
  /** @default 3000 */
  connectTimeoutMs?: number;
  /** Pool size. @default 10 */
  max?: number;
  /**
   * Let the driver look up array types on each new connection, so array parameters and results
   * (`$1::uuid[]`, `text[]` columns) convert. The server's Db turns it off: that lookup runs first
   * on every new connection, and when the connection breaks during it (an outage, a failover) the
   * failure escapes as an unhandled rejection that kills the process (porsager/postgres#1192,
   * #1223). RPCs need no array types: one jsonb argument, one jsonb result. @default true
   */
  fetchTypes?: boolean;
  /**
   * The server cancels any statement of this Db running longer (57014, a SQL error: the caller's,
   * never a reason to fail over). Unset: the server's own setting (migrations run without one).
   */
  statementTimeoutMs?: number;
}

/**
 * Transaction-mode poolers (Supabase Supavisor on 6543, PgBouncer) cannot keep prepared statements
 * across transactions; `?pgbouncer=true` or port 6543 turns them off.
 */
function usesTransactionPooler(url: string): boolean {
  const u = new URL(url);
  return u.port === '6543' || u.searchParams.get('pgbouncer') === 'true';
}

type Sql = postgres.Sql | postgres.TransactionSql;

function txApi(sql: Sql): SqlTx {
  return {
    async exec(text) {
      try {
        await sql.unsafe(text).simple();
      } catch (error) {
        throw fromDriverError(error);
      }
    },
    async query<R extends Record<string, unknown>>(text: string, params: unknown[] = []) {
      try {
        // The driver's parameter type is narrower than what it accepts (plain objects become jsonb).
        return (await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as R[];
      } catch (error) {
        throw fromDriverError(error);
      }
    },
  };
}

export class PostgresDb implements Db, AdminCapable {
  readonly kind = 'postgres' as const;
  readonly admin: SqlAdmin;
  private sql: postgres.Sql;
  private readonly url: string;
  private readonly options: PostgresDbOptions;
  private readonly pooled: boolean;
  private readonly prepare: boolean;

  constructor(url: string, options: PostgresDbOptions = {}) {
    this.pooled = usesTransactionPooler(url);
    this.prepare = !this.pooled;
    const url2 = new URL(url);
    url2.searchParams.delete('pgbouncer');
    this.url = url2.toString();
    this.options = options;
    this.sql = this.connect(options.max ?? 10);
    // Through `this.sql` at each call: abandonConnections() replaces the pool.
    this.admin = {
      exec: (text) => txApi(this.sql).exec(text),
      query: (text, params) => txApi(this.sql).query(text, params),
      transaction: async (fn) => {
        try {
          return (await this.sql.begin((tx) => fn(txApi(tx)))) as Awaited<ReturnType<typeof fn>>;
        } catch (error) {
          throw fromTransactionError(error);
        }
      },
    };
  }

  /**
   * A pool of `max` connections. The statement timeout, on a direct connection, is a startup
   * parameter: the server applies it to the whole session, so no statement runs without it. A
   * transaction pooler (PgBouncer, Supavisor on 6543) hands each transaction to whichever server
   * connection is free and does not pass startup parameters on (PgBouncer refuses unknown ones),
   * and a `SET` in one transaction would leak into other clients' sessions or be lost: there the
   * timeout is set per call with `set local` inside the call's own transaction (see rpc()).
   */
  private connect(max: number, probe = false): postgres.Sql {
    const timeout = this.options.statementTimeoutMs;
    return postgres(this.url, {
      max,
      connect_timeout: Math.ceil((this.options.connectTimeoutMs ?? 3000) / 1000),
      idle_timeout: 60,
      prepare: this.prepare,
      fetch_types: probe ? false : (this.options.fetchTypes ?? true),
      onnotice: () => {},
      connection: {
        application_name: 'omniops',
        ...(timeout !== undefined && !this.pooled ? { statement_timeout: timeout } : {}),
      },
    });
  }

  async rpc<T = unknown>(fn: string, args: object = {}): Promise<T> {
    assertFunctionName(fn);
    const text = `select "${fn}"($1::jsonb) as r`;
    const params = [args as postgres.ParameterOrJSON<never>];
    const timeout = this.options.statementTimeoutMs;
    try {
      if (timeout !== undefined && this.pooled) {
        // Behind a transaction pooler: the timeout and the call in one transaction (see connect()).
        const [, rows] = await this.sql.begin((tx) => [
          tx.unsafe(`set local statement_timeout = ${Math.trunc(timeout)}`),
          tx.unsafe<{ r: T }[]>(text, params, { prepare: false }),
        ]);
        return rows[0]!.r;
      }
      const rows = await this.sql.unsafe<{ r: T }[]>(text, params, { prepare: this.prepare });
      return rows[0]!.r;
    } catch (error) {
      throw fromDriverError(error, fn);
    }
  }

  /**
   * Whether the server answers, on a connection of its own: a probe must neither queue behind
   * busy pool connections (slow queries are not an outage) nor reuse one a dead network swallowed.
   * Bounded by the connect timeout whatever happens to the connection.
   */
  async ping(): Promise<void> {
    const sql = this.connect(1, true);
    const timer = setTimeout(() => void sql.end({ timeout: 0 }), this.options.connectTimeoutMs ?? 3000);
    try {
      await sql.unsafe('select 1', [], { prepare: false });
    } catch (error) {
      throw fromDriverError(error);
    } finally {
      clearTimeout(timer);
      void sql.end({ timeout: 0 });
    }
  }

  /**
   * Drop every connection, failing the calls in flight (08006), and start a new pool: what the
   * outage fallback does when it leaves a primary that stopped answering, whose connections would
   * otherwise stay hung (and the pool full) until TCP keepalive gives up, minutes later.
   */
  abandonConnections(): void {
    const old = this.sql;
    this.sql = this.connect(this.options.max ?? 10);
    void old.end({ timeout: 0 });
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
