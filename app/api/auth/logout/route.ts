import { SESSION_COOKIE } from '@/lib/auth/admin-session';
import { observed } from '@/lib/metrics';

/** Sign out: expire the session cookie and go back to /login. POST only (SameSite=Lax keeps it same-site). */
export const POST = observed('/api/auth/logout', async (request: Request) => {
  return new Response(null, {
    status: 303,
    headers: {
      location: new URL('/login', request.url).toString(),
      'set-cookie': `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`,
    },
  });
});
