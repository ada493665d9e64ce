/**
 * A small server speaking the part of Supabase's Data API (PostgREST) that Omniops uses — RPC —
 * over a real PostgreSQL, so the real `@supabase/supabase-js` client code runs in tests:
 *
 *   POST /rest/v1/rpc/<fn>   body = the function's single unnamed json/jsonb argument
 *
 * Faithful to PostgREST where the client can tell: the `apikey` gate of Supabase's gateway with both
 * key formats (supabase-keys.ts: legacy JWT keys, `sb_publishable_…` / `sb_secret_…` mapped to the
 * anon / service_role roles), HS256 JWTs in `Authorization` choosing the database role (anon when
 * absent), `request.jwt.claims` set
 * for RLS, `Content-Profile` schema selection, the function lookup rule (one unnamed json/jsonb
 * parameter, else PGRST202 / 404), scalar results as bare JSON, and errors as
 * `{code, details, hint, message}` with PostgREST's SQLSTATE → HTTP status table.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import postgres from 'postgres';
import { readBody } from './http';
import { GatewayError, gatewayBearer, projectKeys, signJwt, verifyJwt, type ProjectKeys } from './supabase-keys';

export interface PostgrestServer extends ProjectKeys {
  /** Base URL to give `createClient` (the client appends /rest/v1). */
  url: string;
  /** The project's JWT secret (give it to the GoTrue double: same project, same keys). */
  jwtSecret: string;
  /** The functions called through /rest/v1/rpc so far, in order (one HTTP request each). */
  readonly calls: readonly string[];
  /** Sign a token for any claims (e.g. an authenticated user: `{ role: 'authenticated', sub }`). */
  sign(claims: Record<string, unknown>): string;
  close(): Promise<void>;
}

const ROLES = new Set(['anon', 'authenticated', 'service_role']);

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code: string; message: string; details: string | null; hint: string | null },
  ) {
    super(body.message);
  }
}

function verifiedClaims(token: string, secret: string): Record<string, unknown> {
  const checked = verifyJwt(token, secret);
  if ('invalid' in checked) throw new ApiError(401, { code: 'PGRST301', message: checked.invalid, details: null, hint: null });
  const { claims } = checked;
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
    throw new ApiError(401, { code: 'PGRST303', message: 'JWT expired', details: null, hint: null });
  }
  return claims;
}

/** PostgREST's SQLSTATE → HTTP status table (docs.postgrest.org, "Errors"). */
export function httpStatusForSqlState(code: string, anonymous: boolean): number {
  const exact: Record<string, number> = {
    '23503': 409,
    '23505': 409,
    '25006': 405,
    '53400': 500,
    P0001: 400,
    '42883': 404,
    '42P01': 404,
    '42P17': 500,
    '42501': anonymous ? 401 : 403,
  };
  if (exact[code] !== undefined) return exact[code];
  const byClass: [string, number][] = [
    ['08', 503], ['09', 500], ['0L', 403], ['0P', 403], ['25', 500], ['28', 403], ['2D', 500],
    ['38', 500], ['39', 500], ['3B', 500], ['40', 500], ['53', 503], ['54', 500], ['55', 500],
    ['57', 500], ['58', 500], ['F0', 500], ['HV', 500], ['P0', 500], ['XX', 500],
  ];
  return byClass.find(([prefix]) => code.startsWith(prefix))?.[1] ?? 400;
}

/** A database error as PostgREST answers it: its SQLSTATE with the mapped status, or 503 PGRST000 when the database is unreachable. */
function apiErrorOf(error: unknown, role: string): ApiError {
  const e = error as { code?: string; message?: string; detail?: string; hint?: string };
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    return new ApiError(httpStatusForSqlState(e.code, role === 'anon'), {
      code: e.code,
      message: e.message ?? '',
      details: e.detail ?? null,
      hint: e.hint ?? null,
    });
  }
  return new ApiError(503, { code: 'PGRST000', message: 'Database connection error. Retrying the connection.', details: String(e.message ?? error), hint: null });
}

export async function startPostgrestServer(options: {
  databaseUrl: string;
  jwtSecret?: string;
  port?: number;
}): Promise<PostgrestServer> {
  const secret = options.jwtSecret ?? crypto.randomBytes(32).toString('hex');
  const sql = postgres(options.databaseUrl, { max: 10, onnotice: () => {}, connect_timeout: 3 });
  const iat = Math.floor(Date.now() / 1000);
  const calls: string[] = [];

  async function handleRpc(req: http.IncomingMessage, fn: string): Promise<unknown> {
    let bearer: string | undefined;
    try {
      // Supabase's API gateway checks the API key before PostgREST sees the request.
      bearer = gatewayBearer(req, secret);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      throw new ApiError(error.status, { code: '', message: error.message, details: null, hint: error.hint });
    }
    const claims = bearer !== undefined ? verifiedClaims(bearer, secret) : { role: 'anon' };
    const role = typeof claims.role === 'string' ? claims.role : 'anon';
    if (!ROLES.has(role)) {
      throw new ApiError(401, { code: 'PGRST301', message: `role "${role}" does not exist`, details: null, hint: null });
    }
    const schema = req.headers['content-profile'] ?? 'public';
    if (schema !== 'public') {
      throw new ApiError(406, { code: 'PGRST106', message: 'Invalid schema: ' + String(schema), details: null, hint: 'Only the following schemas are exposed: public' });
    }
    const text = await readBody(req);
    let args: unknown;
    try {
      args = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new ApiError(400, { code: 'PGRST102', message: 'Empty or invalid json', details: null, hint: null });
    }
    const found = await sql`
      select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.proname = ${fn} and p.pronargs = 1
         and p.proargtypes[0] in ('json'::regtype, 'jsonb'::regtype)
         and coalesce(p.proargnames[1], '') = ''`.catch((error: unknown) => {
      throw apiErrorOf(error, role);
    });
    if (found.length === 0) {
      throw new ApiError(404, {
        code: 'PGRST202',
        message: `Could not find the function public.${fn} in the schema cache`,
        details: `Searched for the function public.${fn} with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
        hint: null,
      });
    }
    return sql.begin(async (tx) => {
      await tx.unsafe(`set local role ${role}`);
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(claims)}, true),
                      set_config('request.method', 'POST', true),
                      set_config('request.path', ${'/rpc/' + fn}, true)`;
      const rows = await tx.unsafe(`select "${fn.replaceAll('"', '""')}"($1::jsonb) as r`, [
        args as postgres.ParameterOrJSON<never>,
      ]);
      return rows[0]?.r ?? null;
    }).catch((error: unknown) => {
      throw apiErrorOf(error, role);
    });
  }

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const match = /^\/rest\/v1\/rpc\/([^/?]+)/.exec(req.url ?? '');
    if (!match || req.method !== 'POST') {
      send(404, { code: 'PGRST125', message: 'Invalid path specified in request URL', details: null, hint: null });
      return;
    }
    calls.push(decodeURIComponent(match[1]!));
    handleRpc(req, decodeURIComponent(match[1]!)).then(
      (result) => send(200, result),
      (error: unknown) => {
        if (error instanceof ApiError) send(error.status, error.body);
        else send(500, { code: 'XX000', message: String(error), details: null, hint: null });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    jwtSecret: secret,
    calls,
    ...projectKeys(secret),
    sign: (claims) => signJwt({ iat, exp: iat + 3600, ...claims }, secret),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sql.end({ timeout: 5 });
    },
  };
}
