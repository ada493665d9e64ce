import { SESSION_COOKIE } from '@/lib/auth/admin-session';
import { cookieJarOf } from '@/lib/auth/current-staff';
import { hasSupabaseSessionCookie, signOutSupabase } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { observed } from '@/lib/metrics';

/**
 * Sign out: expire the admin session cookie, end a Supabase Auth session (revoked at the Auth
 * server) and go back to /login. POST only (SameSite=Lax keeps it same-site).
 */
export const POST = observed('/api/auth/logout', async (request: Request) => {
  const jar = cookieJarOf(request);
  const supabaseCookies = jar.getAll().filter((c) => hasSupabaseSessionCookie([c]));
  await signOutSupabase(getConfig(), jar);
  const headers = new Headers({
    // Relative: the browser stays on the host it used (see the login route).
    location: '/login',
  });
  headers.append('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
  // Cleared here as well: signOut() keeps its cookies when the Auth server cannot be reached.
  for (const { name } of supabaseCookies) headers.append('set-cookie', `${name}=; Path=/; SameSite=Lax; Max-Age=0`);
  return new Response(null, { status: 303, headers });
});
