/**
 * The staff of the current request, for server components and route handlers (Next.js's
 * `cookies()`). proxy.ts has already refreshed an expired Supabase session by then; a server
 * component cannot write cookies, so a refresh attempted here is dropped (the next request's proxy
 * writes it). The envelopes that check what the staff may do are lib/auth/route.ts and lib/auth/page.ts.
 */
import { cookies } from 'next/headers';
import { NextRequest } from 'next/server';
import { cache } from 'react';
import { getConfig } from '@/lib/config';
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
