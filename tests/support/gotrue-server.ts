/**
 * A small server speaking the part of Supabase Auth's HTTP API (GoTrue) that the dashboard's
 * sign-in uses, so the real `@supabase/ssr` / `@supabase/auth-js` code runs in tests:
 *
 *   POST /auth/v1/token?grant_type=password        { email, password }  → session
 *   POST /auth/v1/token?grant_type=refresh_token   { refresh_token }    → new session (the old refresh token is spent)
 *   GET  /auth/v1/user                             Bearer access token  → user
 *   POST /auth/v1/logout?scope=…                   Bearer access token  → 204 (its refresh tokens revoked)
 *   POST /auth/v1/admin/users                      service-role Bearer, { email, password } → user
 *   POST /auth/v1/invite                           service-role Bearer, { email } → the new user (an invitation
 *                                                  "sent"; 422 email_exists when the address has an account)
 *   GET  /auth/v1/admin/users?page=&per_page=      service-role Bearer → { users, aud }, oldest first,
 *                                                  with GoTrue's x-total-count and link (next, last) headers
 *
 * Faithful where the client can tell: the gateway's `apikey` gate with both key formats
 * (supabase-keys.ts: a `sb_secret_…` key stands for the service role on the admin routes), HS256 access tokens (so
 * `getClaims()` verifies them with `GET /user`, as for a project on a symmetric JWT secret), the
 * session and user shapes, single-use refresh tokens, and errors as `{ code, error_code, msg }`
 * with GoTrue's statuses (400 invalid_credentials / refresh_token_not_found, 403 bad_jwt).
 * Everything outside /auth/v1 is passed to `upstream` (e.g. the PostgREST double), so one base
 * URL serves as NEXT_PUBLIC_SUPABASE_URL, as on Supabase.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './http';
import { GatewayError, gatewayBearer, signJwt, verifyJwt as verifySignature } from './supabase-keys';

export interface GotrueServer {
  url: string;
  /** Add a user directly (as the dashboard's Authentication → Users page would). */
  addUser(email: string, password: string): { id: string; email: string };
  /** How many sessions were refreshed (grant_type=refresh_token) so far. */
  refreshCount(): number;
  /** The addresses invited so far (POST /invite), in order. */
  invitations(): string[];
  close(): Promise<void>;
}

interface User {
  id: string;
  email: string;
  password: string;
  createdAt: string;
}

function verifyJwt(token: string | undefined, secret: string): Record<string, unknown> | null {
  if (token === undefined) return null;
  const checked = verifySignature(token, secret);
  return 'claims' in checked ? checked.claims : null;
}

class AuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function startGotrueServer(options: {
  /** The JWT secret of the project (the PostgREST double's, so its tokens work there too). */
  jwtSecret: string;
  /** Where requests outside /auth/v1 go. */
  upstream?: string;
  /** Lifetime of an access token. @default 3600 */
  accessTokenTtlSeconds?: number;
  port?: number;
}): Promise<GotrueServer> {
  const ttl = options.accessTokenTtlSeconds ?? 3600;
  const users = new Map<string, User>();
  // refresh token → { user id, session id }; deleted when spent or revoked.
  const refreshTokens = new Map<string, { userId: string; sessionId: string }>();
  const revokedSessions = new Set<string>();
  let refreshes = 0;
  const invited: string[] = [];

  const userJson = (u: User) => ({
    id: u.id,
    aud: 'authenticated',
    role: 'authenticated',
    email: u.email,
    email_confirmed_at: u.createdAt,
    phone: '',
    app_metadata: { provider: 'email', providers: ['email'] },
    user_metadata: {},
    identities: [],
    created_at: u.createdAt,
    updated_at: u.createdAt,
  });

  function session(user: User, sessionId: string = crypto.randomUUID()) {
    const now = Math.floor(Date.now() / 1000);
    const accessToken = signJwt(
      { aud: 'authenticated', role: 'authenticated', sub: user.id, email: user.email, session_id: sessionId, iat: now, exp: now + ttl, aal: 'aal1', amr: [{ method: 'password', timestamp: now }], app_metadata: {}, user_metadata: {}, is_anonymous: false },
      options.jwtSecret,
    );
    const refreshToken = crypto.randomBytes(12).toString('base64url');
    refreshTokens.set(refreshToken, { userId: user.id, sessionId });
    return { access_token: accessToken, token_type: 'bearer', expires_in: ttl, expires_at: now + ttl, refresh_token: refreshToken, user: userJson(user) };
  }

  function bearerUser(bearer: string | undefined): { user: User; claims: Record<string, unknown> } {
    const claims = verifyJwt(bearer, options.jwtSecret);
    if (!claims) throw new AuthError(403, 'bad_jwt', 'invalid JWT: unable to parse or verify signature');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) {
      throw new AuthError(403, 'bad_jwt', 'invalid JWT: token is expired');
    }
    if (typeof claims.session_id === 'string' && revokedSessions.has(claims.session_id)) {
      throw new AuthError(403, 'session_not_found', 'Session from session_id claim in JWT does not exist');
    }
    const user = [...users.values()].find((u) => u.id === claims.sub);
    if (!user) throw new AuthError(403, 'user_not_found', 'User from sub claim in JWT does not exist');
    return { user, claims };
  }

  function requireServiceRole(bearer: string | undefined): void {
    if (verifyJwt(bearer, options.jwtSecret)?.role !== 'service_role') throw new AuthError(403, 'not_admin', 'User not allowed');
  }

  async function handleAuth(req: http.IncomingMessage, url: URL): Promise<{ status: number; body?: unknown; headers?: Record<string, string> }> {
    let bearer: string | undefined;
    try {
      bearer = gatewayBearer(req, options.jwtSecret);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      throw new AuthError(error.status, error.message === 'Invalid API key' ? 'invalid_api_key' : 'no_api_key', error.message);
    }
    const path = url.pathname.slice('/auth/v1'.length);
    const text = req.method === 'POST' ? await readBody(req) : '';
    const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (req.method === 'POST' && path === '/token' && url.searchParams.get('grant_type') === 'password') {
      const user = typeof body.email === 'string' ? users.get(body.email.toLowerCase()) : undefined;
      if (!user || user.password !== body.password) throw new AuthError(400, 'invalid_credentials', 'Invalid login credentials');
      return { status: 200, body: session(user) };
    }
    if (req.method === 'POST' && path === '/token' && url.searchParams.get('grant_type') === 'refresh_token') {
      const spent = typeof body.refresh_token === 'string' ? refreshTokens.get(body.refresh_token) : undefined;
      if (!spent || revokedSessions.has(spent.sessionId)) throw new AuthError(400, 'refresh_token_not_found', 'Invalid Refresh Token: Refresh Token Not Found');
      refreshTokens.delete(body.refresh_token as string);
      const user = [...users.values()].find((u) => u.id === spent.userId)!;
      refreshes++;
      return { status: 200, body: session(user, spent.sessionId) };
    }
    if (req.method === 'GET' && path === '/user') {
      return { status: 200, body: userJson(bearerUser(bearer).user) };
    }
    if (req.method === 'POST' && path === '/logout') {
      const { claims } = bearerUser(bearer);
      revokedSessions.add(String(claims.session_id));
      return { status: 204 };
    }
    if (req.method === 'GET' && path === '/admin/users') {
      requireServiceRole(bearer);
      const page = Math.max(1, Number(url.searchParams.get('page')) || 1);
      const perPage = Math.min(1000, Math.max(1, Number(url.searchParams.get('per_page')) || 50));
      const all = [...users.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number, rel: string) => `</admin/users?page=${p}&per_page=${perPage}>; rel="${rel}"`;
      return {
        status: 200,
        body: { users: all.slice((page - 1) * perPage, page * perPage).map(userJson), aud: 'authenticated' },
        headers: { 'x-total-count': String(all.length), link: [...(page < last ? [link(page + 1, 'next')] : []), link(last, 'last')].join(', ') },
      };
    }
    if (req.method === 'POST' && path === '/admin/users') {
      requireServiceRole(bearer);
      if (typeof body.email !== 'string' || typeof body.password !== 'string') throw new AuthError(400, 'validation_failed', 'email and password required');
      return { status: 200, body: userJson(addUser(body.email, body.password)) };
    }
    if (req.method === 'POST' && path === '/invite') {
      requireServiceRole(bearer);
      if (typeof body.email !== 'string') throw new AuthError(400, 'validation_failed', 'email required');
      if (users.has(body.email.toLowerCase())) {
        throw new AuthError(422, 'email_exists', 'A user with this email address has already been registered');
      }
      // No password until the invitee follows the e-mailed link.
      const user = addUser(body.email, crypto.randomBytes(32).toString('hex'));
      invited.push(user.email);
      return { status: 200, body: userJson(user) };
    }
    throw new AuthError(404, 'not_found', `no route ${req.method} ${path}`);
  }

  function addUser(email: string, password: string): User {
    const key = email.toLowerCase();
    const existing = users.get(key);
    if (existing) return existing;
    const user = { id: crypto.randomUUID(), email: key, password, createdAt: new Date().toISOString() };
    users.set(key, user);
    return user;
  }

  async function passUpstream(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    if (!options.upstream) {
      res.writeHead(404).end();
      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers.set(name, value);
    }
    const upstream = await fetch(new URL(url.pathname + url.search, options.upstream), {
      method: req.method,
      headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req),
    });
    res.writeHead(upstream.status, Object.fromEntries([...upstream.headers].filter(([n]) => n !== 'content-encoding' && n !== 'transfer-encoding')));
    res.end(Buffer.from(await upstream.arrayBuffer()));
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const work = url.pathname.startsWith('/auth/v1/')
      ? handleAuth(req, url).then(({ status, body, headers }) => {
          res.writeHead(status, { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) });
          res.end(body === undefined ? undefined : JSON.stringify(body));
        })
      : passUpstream(req, res, url);
    work.catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = error instanceof AuthError ? error : new AuthError(500, 'unexpected_failure', (error as Error).message);
      res.writeHead(e.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: e.status, error_code: e.code, msg: e.message }));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    addUser: (email, password) => {
      const u = addUser(email, password);
      return { id: u.id, email: u.email };
    },
    refreshCount: () => refreshes,
    invitations: () => [...invited],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
