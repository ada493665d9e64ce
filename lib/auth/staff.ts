/**
 * Who is using the dashboard: an administrator (admin-token session, every customer) or a staff
 * member signed in with Supabase Auth (only the customers they are a member of, `customer_members`):
 * the session, the memberships and the database a staff member reads through. What each of them
 * may do is lib/auth/access.ts; the envelopes that check it for every route and page are
 * lib/auth/route.ts and lib/auth/page.ts.
 *
 * Framework-free: callers pass the request's cookies as `@supabase/ssr` cookie methods, so the
 * same code serves proxy.ts (which can write refreshed session cookies), route handlers and
 * server components.
 */
import type { CookieMethodsServer } from '@supabase/ssr';
import { z } from 'zod';
import { SESSION_COOKIE, isAdminSession } from '@/lib/auth/admin-session';
import type { Config } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import { SupabaseDb } from '@/lib/db/supabase';
import type { Db } from '@/lib/db/types';
import { createLogger } from '@/lib/log';
import { createAuthClient } from '@/lib/supabase/server';

const log = createLogger('auth');

export const MEMBER_ROLES = ['owner', 'admin', 'agent'] as const;

export interface Membership {
  customerId: string;
  customerName: string;
  role: (typeof MEMBER_ROLES)[number];
}

export interface SupabaseUser {
  id: string;
  email: string | null;
}

/** A member carries their access token: their reads go through the Data API as them (see staffDb). */
export type Staff = { kind: 'admin' } | { kind: 'member'; user: SupabaseUser; memberships: Membership[]; accessToken: string };

/** The request's cookies: what `@supabase/ssr` reads and (where the runtime allows) writes. */
export interface CookieJar {
  getAll(): { name: string; value: string }[];
  setAll: NonNullable<CookieMethodsServer['setAll']>;
}

/** Staff sign in with Supabase Auth when Supabase and its anon key are configured. */
export function supabaseAuthEnabled(config: Pick<Config, 'supabase'>): boolean {
  return Boolean(config.supabase?.anonKey);
}

/** True when a cookie of the request belongs to a Supabase Auth session (whether or not it is still valid). */
export function hasSupabaseSessionCookie(cookies: { name: string }[]): boolean {
  return cookies.some((c) => /^sb-.+-auth-token(\.\d+)?$/.test(c.name));
}

const claimsSchema = z.object({ sub: z.guid(), email: z.string().optional() });

/**
 * The signed-in Supabase user of the request and their access token, or null. An expired access
 * token is refreshed with the refresh token and the new session written through `cookies.setAll`
 * (in proxy.ts, onto the response). Fails closed: an unreachable Auth server means "not signed
 * in", logged.
 */
async function supabaseSession(
  config: Pick<Config, 'supabase'>,
  cookies: CookieJar,
): Promise<{ user: SupabaseUser; accessToken: string } | null> {
  if (!supabaseAuthEnabled(config) || !hasSupabaseSessionCookie(cookies.getAll())) return null;
  const supabase = createAuthClient(config.supabase, cookies);
  // Do not run code between createServerClient and getClaims(): getClaims() loads the session from
  // the cookies, refreshes it when expired, and verifies the token with the Auth server (HS256) or
  // its published keys (asymmetric).
  const { data, error } = await supabase.auth.getClaims();
  if (error) {
    // An expired or revoked session is an ordinary outcome; anything else is worth a line.
    if (error.status === undefined || error.status >= 500) log.warn(`supabase auth check failed: ${error.message}`);
    return null;
  }
  const claims = claimsSchema.safeParse(data?.claims);
  if (!claims.success) return null;
  // The session getClaims() just verified (and refreshed): its token is what the Data API checks again.
  const { data: current } = await supabase.auth.getSession();
  if (!current.session) return null;
  return { user: { id: claims.data.sub, email: claims.data.email ?? null }, accessToken: current.session.access_token };
}

/** The signed-in Supabase user of the request, or null (see supabaseSession). */
export async function supabaseUser(config: Pick<Config, 'supabase'>, cookies: CookieJar): Promise<SupabaseUser | null> {
  return (await supabaseSession(config, cookies))?.user ?? null;
}

const membershipsSchema = z.array(
  z.object({ customerId: z.guid(), customerName: z.string(), role: z.enum(MEMBER_ROLES) }),
);

/** The customers a Supabase user is a member of (`customer_members`), by name. */
export async function staffMemberships(db: Db, userId: string): Promise<Membership[]> {
  return membershipsSchema.parse(await db.rpc('staff_memberships', { userId: z.guid().parse(userId) }));
}

/** The staff of a request: an admin session first, else a Supabase Auth user with their memberships; null when neither. */
export async function resolveStaff(config: Config, cookies: CookieJar): Promise<Staff | null> {
  const all = cookies.getAll();
  if (isAdminSession(config, all.find((c) => c.name === SESSION_COOKIE)?.value)) return { kind: 'admin' };
  const session = await supabaseSession(config, cookies);
  if (!session) return null;
  const memberships = await staffMemberships(await resolveDb(config), session.user.id);
  return { kind: 'member', user: session.user, memberships, accessToken: session.accessToken };
}

/**
 * True while the embedded fallback serves because the primary database is unreachable. Staff
 * members then have no memberships (the fallback keeps no `customer_members`): they see none of
 * their customers until the primary is back — closed, never open.
 */
export async function fallbackServing(config: Config): Promise<boolean> {
  return (await resolveDb(config)).fallbackActive?.() ?? false;
}

/**
 * The `Db` a staff member's reads go through. An administrator: the serving Db. A member: the Data
 * API as the member (their JWT), so Row Level Security limits every row to their customers — a
 * second layer under the server's own checks — and only the RPCs granted to `authenticated` answer.
 * During a database outage, the serving Db (the fallback, where a member has no memberships). Writes
 * always use the serving Db, after a membership check.
 */
export async function staffDb(config: Config, staff: Staff): Promise<Db> {
  const db = await resolveDb(config);
  if (staff.kind === 'admin' || !config.supabase || (await fallbackServing(config))) return db;
  return new SupabaseDb(config.supabase, { accessToken: staff.accessToken, pingTimeoutMs: config.dbConnectTimeoutMs });
}

/**
 * Sign a staff member in with Supabase Auth (email + password); the session cookies are written
 * through `cookies.setAll`. Wrong credentials are an outcome (`ok: false`), not an exception.
 */
export async function signInWithPassword(
  config: Pick<Config, 'supabase'>,
  cookies: CookieJar,
  credentials: { email: string; password: string },
): Promise<{ ok: true; user: SupabaseUser } | { ok: false; status: number; message: string }> {
  const supabase = createAuthClient(config.supabase, cookies);
  const { data, error } = await supabase.auth.signInWithPassword(credentials);
  if (error || !data.user) {
    const status = error?.status ?? 500;
    if (status >= 500) log.warn(`supabase sign-in failed: ${error?.message ?? 'no user returned'}`);
    return { ok: false, status, message: error?.message ?? 'sign-in failed' };
  }
  return { ok: true, user: { id: data.user.id, email: data.user.email ?? null } };
}

/** End the Supabase Auth session: revoked at the Auth server, cookies cleared through `cookies.setAll`. */
export async function signOutSupabase(config: Pick<Config, 'supabase'>, cookies: CookieJar): Promise<void> {
  if (!supabaseAuthEnabled(config) || !hasSupabaseSessionCookie(cookies.getAll())) return;
  const { error } = await createAuthClient(config.supabase, cookies).auth.signOut();
  // The cookies are cleared even when the Auth server could not revoke the refresh token.
  if (error) log.warn(`supabase sign-out: ${error.message}`);
}
