/**
 * Request interception (Next.js 16's successor of `middleware.ts`; runs on the Node.js runtime).
 * Gives every request an id for log correlation, sets baseline security headers, refreshes an
 * expired Supabase Auth session (new cookies on the request the page sees and on the response),
 * sends a request to the dashboard or the admin APIs without any session to /login (pages, back to
 * where it was going) or answers it 401 (APIs), and lets only a customer's allowed origins frame its
 * widget (CSP frame-ancestors).
 *
 * It knows no roles: who may call which API or see which page is declared by each route and page
 * (lib/auth/route.ts `staffRoute`, lib/auth/page.ts `staffPage`), which check the session again.
 */
import { NextResponse, type NextRequest } from 'next/server';
import { SESSION_COOKIE, isAdminSession } from '@/lib/auth/admin-session';
import { supabaseAuthEnabled, supabaseUser } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { getCustomerByPublicKey } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import { requestOrigin } from '@/lib/http';
import { frameAncestors, publicKeySchema } from '@/lib/widget';

async function widgetFrameAncestors(key: string | null): Promise<string> {
  const parsed = publicKeySchema.safeParse(key);
  if (!parsed.success) return "'none'";
  try {
    return frameAncestors(await getCustomerByPublicKey(await resolveDb(getConfig()), parsed.data));
  } catch {
    // Database unreachable: the cached widget (service worker) still works top-level; framing
    // falls back to the strictest policy rather than an open one.
    return "'none'";
  }
}

function isGuarded(pathname: string): boolean {
  return pathname === '/dashboard' || pathname.startsWith('/dashboard/') || pathname.startsWith('/api/admin/');
}

type SetCookie = { name: string; value: string; options: Parameters<NextResponse['cookies']['set']>[2] };

/**
 * True when the request has a session: an admin-token session, or a Supabase Auth user (refreshed
 * when it nears expiry: the new session is written onto the request, so the page renders with it,
 * and collected in `refreshed` for the response).
 */
async function updateSession(request: NextRequest, refreshed: SetCookie[]): Promise<boolean> {
  const config = getConfig();
  if (isAdminSession(config, request.cookies.get(SESSION_COOKIE)?.value)) return true;
  if (!supabaseAuthEnabled(config)) return false;
  const user = await supabaseUser(config, {
    getAll: () => request.cookies.getAll(),
    setAll: (list) => {
      for (const cookie of list) {
        request.cookies.set(cookie.name, cookie.value);
        refreshed.push(cookie);
      }
    },
  });
  return user !== null;
}

export async function proxy(request: NextRequest) {
  const requestId = request.headers.get('x-request-id') ?? crypto.randomUUID();
  const { pathname, search } = request.nextUrl;

  const refreshed: SetCookie[] = [];
  const signedIn = isGuarded(pathname) || pathname === '/login' ? await updateSession(request, refreshed) : false;
  let response: NextResponse;
  if (isGuarded(pathname) && !signedIn) {
    if (pathname.startsWith('/api/')) {
      response = NextResponse.json({ error: { code: 'unauthorized', message: 'sign in at /login' } }, { status: 401 });
    } else {
      // On the host the browser used (request.url may name the one the server was started with).
      const login = new URL('/login', requestOrigin(request.headers, request.url));
      login.searchParams.set('next', `${pathname}${search}`);
      response = NextResponse.redirect(login, 303);
    }
  } else {
    const headers = new Headers(request.headers);
    headers.set('x-request-id', requestId);
    response = NextResponse.next({ request: { headers } });
  }
  if (pathname === '/widget') {
    const ancestors = await widgetFrameAncestors(request.nextUrl.searchParams.get('key'));
    response.headers.set('content-security-policy', `frame-ancestors ${ancestors}`);
  } else {
    response.headers.set('x-frame-options', 'DENY');
  }
  for (const { name, value, options } of refreshed) response.cookies.set(name, value, options);
  response.headers.set('x-request-id', requestId);
  response.headers.set('x-content-type-options', 'nosniff');
  response.headers.set('referrer-policy', 'strict-origin-when-cross-origin');
  return response;
}

export const config = {
  // Everything except Next's static assets.
  matcher: ['/((?!_next/static|_next/image|favicon.ico|icon.svg|embed.js|widget-sw.js).*)'],
};
