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
  private readonly sql: postgres.Sql;
  private readonly prepare: boolean;

  constructor(url: string, options: PostgresDbOptions = {}) {
    this.prepare = !usesTransactionPooler(url);
    const url2 = new URL(url);
    url2.searchParams.delete('pgbouncer');
    this.sql = postgres(url2.toString(), {
      max: options.max ?? 10,
      connect_timeout: Math.ceil((options.connectTimeoutMs ?? 3000) / 1000),
      idle_timeout: 60,
      prepare: this.prepare,
      fetch_types: options.fetchTypes ?? true,
      onnotice: () => {},
      connection: { application_name: 'omniops' },
    });
    const sql = this.sql;
    this.admin = {
      ...txApi(sql),
      async transaction(fn) {
        try {
          return (await sql.begin((tx) => fn(txApi(tx)))) as Awaited<ReturnType<typeof fn>>;
        } catch (error) {
          throw fromTransactionError(error);
        }
      },
    };
  }

  async rpc<T = unknown>(fn: string, args: object = {}): Promise<T> {
    assertFunctionName(fn);
    try {
      const rows = await this.sql.unsafe<{ r: T }[]>(
        `select "${fn}"($1::jsonb) as r`,
        [args as postgres.ParameterOrJSON<never>],
        { prepare: this.prepare },
      );
      return rows[0]!.r;
    } catch (error) {
      throw fromDriverError(error, fn);
    }
  }

  async ping(): Promise<void> {
    await this.admin.query('select 1');
  }

  async close(): Promise<void> {
    await this.sql.end({ timeout: 5 });
  }
}
