import { z } from 'zod';
import { SESSION_COOKIE, SESSION_TTL_MS, issueSession, serverAdminToken } from '@/lib/auth/admin-session';
import { secretsEqual } from '@/lib/auth/secrets';
import { loginRateKey } from '@/lib/cache/keys';
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import { requestCookieJar } from '@/lib/auth/current-staff';
import { safeNextPath } from '@/lib/auth/redirect';
import { signInWithPassword, supabaseAuthEnabled } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { HttpError, clientIp, enforceRateLimits, errorResponse, readText } from '@/lib/http';
import { observed } from '@/lib/metrics';

/**
 * A redirect to a path of this site with a relative Location: the browser stays on the host it
 * used (127.0.0.1, a LAN address, the public name), where the session cookie was set — `request.url`
 * names the host the server was started with (e.g. localhost), not necessarily that one.
 */
const seeOther = (path: string) => new Response(null, { status: 303, headers: { location: path } });

/** A refusal in the error shape of every API (lib/http.ts). */
const refuse = (status: number, code: string, message: string) => errorResponse(new HttpError(status, code, message));

const next = z.string().max(2048).optional();

/** Credentials and a destination: a few hundred bytes; read no more than this (413 beyond). */
const MAX_LOGIN_BODY_BYTES = 16 * 1024;
const loginSchema = z.union([
  z.object({ token: z.string().min(1, 'token: required').max(512), next }),
  z.object({
    email: z.email('email: must be an email address').max(320),
    password: z.string().min(1, 'password: required').max(1024),
    next,
  }),
]);

/** Supabase Auth sign-in: the session cookies are set on the response (Next.js's cookie store). */
async function supabaseSignIn(credentials: { email: string; password: string }, isForm: boolean, next: string): Promise<Response> {
  const config = getConfig();
  if (!supabaseAuthEnabled(config)) {
    return refuse(403, 'sign_in_disabled', 'staff sign-in with Supabase Auth is not configured here: use the admin token');
  }
  const result = await signInWithPassword(config, await requestCookieJar(), credentials);
  if (result.ok) return isForm ? seeOther(next) : Response.json({ ok: true, user: result.user });
  if (result.status >= 500) {
    if (!isForm) return refuse(503, 'unavailable', 'the sign-in service is unavailable, try again shortly');
    return seeOther(`/login?${new URLSearchParams({ error: 'unavailable', next })}`);
  }
  if (!isForm) return refuse(401, 'invalid_credentials', 'invalid email or password');
  return seeOther(`/login?${new URLSearchParams({ error: 'credentials', next })}`);
}

/**
 * Sign in. With `{token}`: exchange the admin token for a session cookie. With `{email, password}`
 * (Supabase configured): a Supabase Auth session in cookies. Accepts the /login forms (redirects
 * back with `?error=…` on failure) or JSON (200 / 401).
 */
export const POST = observed('/api/auth/login', async (request: Request) => {
  try {
    // Before anything else: a guesser is refused without learning anything.
    await enforceRateLimits(getRedisClientWithFallback(), [loginRateKey(clientIp(request))]);
  } catch (error) {
    return errorResponse(error);
  }
  const isForm = request.headers.get('content-type')?.includes('application/x-www-form-urlencoded') ?? false;
  let body: unknown;
  try {
    const text = await readText(request, MAX_LOGIN_BODY_BYTES);
    body = isForm ? Object.fromEntries(new URLSearchParams(text)) : JSON.parse(text);
  } catch (error) {
    if (error instanceof HttpError) return errorResponse(error);
    return refuse(400, 'invalid_json', 'body: expected JSON or a form');
  }
  const parsed = loginSchema.safeParse(body);
  if (!parsed.success) {
    return refuse(400, 'invalid_request', parsed.error.issues.map((i) => i.message).join('; '));
  }
  const next = safeNextPath(parsed.data.next);
  if ('email' in parsed.data) return supabaseSignIn(parsed.data, isForm, next);
  const adminToken = serverAdminToken(getConfig());
  if (!adminToken) {
    return refuse(403, 'sign_in_disabled', 'admin sign-in is disabled: set OMNIOPS_ADMIN_TOKEN');
  }
  const url = new URL(request.url);
  if (!secretsEqual(parsed.data.token, adminToken)) {
    if (!isForm) return refuse(401, 'invalid_credentials', 'invalid admin token');
    const back = new URLSearchParams({ error: 'invalid', next });
    return seeOther(`/login?${back}`);
  }
  const secure = url.protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https';
  const cookie = [
    `${SESSION_COOKIE}=${issueSession(adminToken)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${SESSION_TTL_MS / 1000}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
  const response = isForm ? seeOther(next) : Response.json({ ok: true });
  const headers = new Headers(response.headers);
  headers.append('set-cookie', cookie);
  return new Response(response.body, { status: response.status, headers });
});
