/**
 * Supabase through its Data API (PostgREST): `supabase.rpc(fn, args)` with the service-role client,
 * or — with `accessToken` — as a signed-in staff member, under Row Level Security. PostgREST passes
 * the whole JSON body as the single unnamed `jsonb` argument of `fn`.
 */
import type { PostgrestError, SupabaseClient } from '@supabase/supabase-js';
import type { Config } from '@/lib/config';
import { createServiceRoleClient, createUserClient } from '@/lib/supabase/server';
import { DbError, SqlState, assertFunctionName } from './errors';
import type { Db } from './types';

export interface SupabaseDbOptions {
  /** Per-request timeout for RPCs. @default 30000 */
  requestTimeoutMs?: number;
  /** Timeout of `ping()`, which decides reachability. @default 3000 */
  pingTimeoutMs?: number;
  /**
   * Call as this user (anon key + their JWT): only the RPCs granted to `authenticated` (the
   * `private.member_rpcs` list), with RLS filtering rows to their customers. Default: service role.
   */
  accessToken?: string;
}

/** PostgREST's own error codes mapped onto the SQLSTATE the other adapters report for the same failure. */
const PGRST_TO_SQLSTATE: Record<string, string> = {
  PGRST000: SqlState.unableToConnect, // could not connect to the database
  PGRST001: SqlState.unableToConnect, // internal connection error
  PGRST002: SqlState.unableToConnect, // schema cache not loaded (database unreachable)
  PGRST003: SqlState.unableToConnect, // timed out acquiring a pool connection
  PGRST202: SqlState.undefinedFunction, // function not found in the schema cache
  PGRST203: SqlState.undefinedFunction, // ambiguous overload
  PGRST301: SqlState.invalidAuthorization, // JWT invalid
  PGRST302: SqlState.invalidAuthorization, // anonymous access disabled
  PGRST303: SqlState.invalidAuthorization, // JWT claims invalid
};

function toDbError(fn: string, error: PostgrestError, status: number): DbError {
  const raw = error.code ?? '';
  let code: string;
  if (/^[0-9A-Z]{5}$/.test(raw) && !raw.startsWith('PGRST')) code = raw;
  else if (PGRST_TO_SQLSTATE[raw]) code = PGRST_TO_SQLSTATE[raw];
  else if (status === 0) code = SqlState.unableToConnect; // fetch failed: nothing answered
  else if (status === 401) code = SqlState.invalidAuthorization; // the gateway refused the API key (a configuration error, not an outage)
  else if (status === 502 || status === 503 || status === 504) code = SqlState.connectionFailure; // gateway without a database
  else code = 'XX000';
  return new DbError(code, error.message, {
    fn,
    detail: error.details || undefined,
    hint: error.hint || undefined,
    cause: { ...error, status },
  });
}

export class SupabaseDb implements Db {
  readonly kind = 'supabase' as const;
  private readonly client: SupabaseClient;
  private readonly requestTimeoutMs: number;
  private readonly pingTimeoutMs: number;
  /** Aborted by abandonConnections(): fails the requests in flight. */
  private inFlight = new AbortController();

  constructor(supabase: NonNullable<Config['supabase']>, options: SupabaseDbOptions = {}) {
    this.client = options.accessToken ? createUserClient(supabase, options.accessToken) : createServiceRoleClient(supabase);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 3000;
  }

  async rpc<T = unknown>(fn: string, args: object = {}): Promise<T> {
    return this.call<T>(fn, args, this.requestTimeoutMs);
  }

  async ping(): Promise<void> {
    await this.call('system_ping', {}, this.pingTimeoutMs);
  }

  abandonConnections(): void {
    this.inFlight.abort();
    this.inFlight = new AbortController();
  }

  async close(): Promise<void> {
    // HTTP only: nothing to release.
  }

  private async call<T>(fn: string, args: object, timeoutMs: number): Promise<T> {
    assertFunctionName(fn);
    let response;
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.inFlight.signal]);
      response = await this.client.rpc(fn, args).abortSignal(signal);
    } catch (error) {
      throw new DbError(SqlState.connectionFailure, `[omniops] [db] supabase rpc ${fn} failed: ${String(error)}`, {
        fn,
        cause: error,
      });
    }
    const { data, error, status } = response;
    if (error) {
      if (error.hint?.includes('aborted')) {
        throw new DbError(SqlState.connectionFailure, `[omniops] [db] supabase rpc ${fn} timed out after ${timeoutMs} ms`, {
          fn,
          cause: error,
        });
      }
      throw toDbError(fn, error, status);
    }
    return data as T;
  }
}
