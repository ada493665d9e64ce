/**
 * A Supabase project's API keys and the part of its API gateway that handles them, shared by the
 * PostgREST and GoTrue doubles (postgrest-server.ts, gotrue-server.ts).
 *
 * A project has two key formats, both accepted in the `apikey` header:
 *  - the legacy keys: HS256 JWTs with `role: anon` / `role: service_role`, signed with the project's
 *    JWT secret (the client also sends them as `Authorization: Bearer`, and PostgREST reads the role
 *    from that JWT);
 *  - the current keys, `sb_publishable_…` and `sb_secret_…`: opaque strings, not JWTs. The gateway
 *    checks them and, when `Authorization` is absent or carries the key itself, replaces it with a
 *    short-lived JWT of the key's role (`anon` / `service_role`) before the request reaches PostgREST
 *    or Auth. A user's own access token in `Authorization` is passed on unchanged: it decides the
 *    role (`authenticated`).
 * An `apikey` that is neither a valid legacy JWT nor one of the project's keys is refused with 401.
 */
import crypto from 'node:crypto';
import type http from 'node:http';

const b64url = (input: Buffer | string) => Buffer.from(input).toString('base64url');

export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify(claims));
  const sig = b64url(crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest());
  return `${head}.${body}.${sig}`;
}

/** The claims of an HS256 JWT signed with `secret`, or a reason why it is not one (expiry is the caller's). */
export function verifyJwt(token: string, secret: string): { claims: Record<string, unknown> } | { invalid: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { invalid: `Expected 3 parts in JWT; got ${parts.length}` };
  const [head, body, sig] = parts as [string, string, string];
  const expected = crypto.createHmac('sha256', secret).update(`${head}.${body}`).digest();
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) return { invalid: 'JWSError JWSInvalidSignature' };
  return { claims: JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown> };
}

export interface ProjectKeys {
  /** Legacy anon key (a JWT). */
  anonKey: string;
  /** Legacy service-role key (a JWT). */
  serviceRoleKey: string;
  /** `sb_publishable_…`: the anon role's current key. */
  publishableKey: string;
  /** `sb_secret_…`: the service role's current key. */
  secretKey: string;
}

/**
 * The project's keys, derived from its JWT secret so that every double given the same secret
 * (PostgREST, GoTrue) knows the same keys without being told.
 */
export function projectKeys(jwtSecret: string): ProjectKeys {
  const derive = (label: string) => crypto.createHmac('sha256', jwtSecret).update(label).digest('base64url').replace(/[-_]/g, '').slice(0, 30);
  const iat = 1_767_225_600; // 2026-01-01, like a project's key issued once and valid for years
  const exp = iat + 10 * 365 * 86_400;
  return {
    anonKey: signJwt({ iss: 'supabase', role: 'anon', iat, exp }, jwtSecret),
    serviceRoleKey: signJwt({ iss: 'supabase', role: 'service_role', iat, exp }, jwtSecret),
    publishableKey: `sb_publishable_${derive('publishable')}`,
    secretKey: `sb_secret_${derive('secret')}`,
  };
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint: string | null = null,
  ) {
    super(message);
  }
}

/**
 * The gateway's check of one request: throws `GatewayError` (401) for a missing or unknown `apikey`,
 * and returns the bearer token the service behind it sees (undefined: none, i.e. `anon` for
 * PostgREST) — for a current-format key without a user token, a fresh JWT of the key's role.
 */
export function gatewayBearer(req: http.IncomingMessage, jwtSecret: string): string | undefined {
  const apikey = req.headers.apikey;
  if (typeof apikey !== 'string' || apikey === '') {
    throw new GatewayError(401, 'No API key found in request', 'No `apikey` request header or url param was found.');
  }
  const auth = req.headers.authorization;
  const bearer = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
  if (apikey.startsWith('sb_')) {
    const keys = projectKeys(jwtSecret);
    const role = apikey === keys.publishableKey ? 'anon' : apikey === keys.secretKey ? 'service_role' : undefined;
    if (!role) throw new GatewayError(401, 'Invalid API key', 'Double check your Supabase API key.');
    if (bearer !== undefined && bearer !== apikey) return bearer;
    const iat = Math.floor(Date.now() / 1000);
    return signJwt({ iss: 'supabase', role, iat, exp: iat + 60 }, jwtSecret);
  }
  const checked = verifyJwt(apikey, jwtSecret);
  if ('invalid' in checked) throw new GatewayError(401, 'Invalid API key', 'Double check your Supabase `anon` or `service_role` API key.');
  return bearer;
}
