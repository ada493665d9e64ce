/**
 * The staff of the current request, for server components and route handlers (Next.js's
 * `cookies()`). proxy.ts has already refreshed an expired Supabase session by then; a server
 * component cannot write cookies, so a refresh attempted here is dropped (the next request's proxy
 * writes it).
 */
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { NextRequest } from 'next/server';
import { cache } from 'react';
import { getConfig } from '@/lib/config';
import { HttpError, requireSameOriginJson } from '@/lib/http';
import { resolveStaff, type CookieJar, type Staff } from './staff';

/** The request's cookie store as `@supabase/ssr` cookie methods. */
export async function requestCookieJar(): Promise<CookieJar> {
  const store = await cookies();
  return {
    getAll: () => store.getAll(),
    setAll: (list) => {
      try {
        for (const { name, value, options } of list) store.set(name, value, options);
      } catch {
        // Called from a server component, where cookies are read-only: proxy.ts refreshes sessions.
      }
    },
  };
}

/** Once per request (layout and page share it). */
export const currentStaff = cache(async (): Promise<Staff | null> => resolveStaff(getConfig(), await requestCookieJar()));

/** For pages: the staff, or a redirect to /login. */
export async function requireStaffPage(path: string): Promise<Staff> {
  const staff = await currentStaff();
  if (!staff) redirect(`/login?${new URLSearchParams({ next: path })}`);
  return staff;
}

/**
 * The cookies `request` carries, read-only: writes are dropped (a route handler that must clear
 * cookies says so in its own response headers).
 */
export function cookieJarOf(request: Request): CookieJar {
  // The headers only: the handler still reads the body.
  const { cookies: jar } = new NextRequest(request.url, { headers: request.headers });
  return { getAll: () => jar.getAll(), setAll: () => {} };
}

/** The staff of `request` from its own cookies, or null (a refresh attempted here is dropped). */
export async function staffOfRequest(request: Request): Promise<Staff | null> {
  return resolveStaff(getConfig(), cookieJarOf(request));
}

/**
 * For admin APIs: the staff of `request`, or a 401 (proxy.ts checks first; this keeps each handler
 * safe on its own). Reads the request's own cookies, so a handler works wherever it is called; a
 * refresh attempted here is dropped (proxy.ts has refreshed the session already). Sessions are
 * cookies, so a mutation (anything but GET/HEAD) must also pass the CSRF check — same origin, a
 * JSON body, 403 / 415 / 413 (lib/http.ts requireSameOriginJson): every admin handler calls this,
 * so none can forget it (tests/security/csrf.test.ts runs over every route in app/api/admin).
 */
export async function requireStaffApi(request: Request): Promise<Staff> {
  const staff = await staffOfRequest(request);
  if (!staff) throw new HttpError(401, 'unauthorized', 'sign in at /login');
  requireSameOriginJson(request);
  return staff;
}
