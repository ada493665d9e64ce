import { SESSION_COOKIE } from '@/lib/auth/admin-session';
import { observed } from '@/lib/metrics';

/** Sign out: expire the session cookie and go back to /login. POST only (SameSite=Lax keeps it same-site). */
export const POST = observed('/api/auth/logout', async () => {
  return new Response(null, {
    status: 303,
    headers: {
      // Relative: the browser stays on the host it used (see the login route).
      location: '/login',
      'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
    },
  });
});
