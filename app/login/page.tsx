import type { Metadata } from 'next';
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { SESSION_COOKIE, isAdminSession, serverAdminToken } from '@/lib/auth/admin-session';
import { safeNextPath } from '@/lib/auth/redirect';
import { getConfig } from '@/lib/config';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNextPath(params.next);
  const config = getConfig();
  if (isAdminSession(config, (await cookies()).get(SESSION_COOKIE)?.value)) redirect(next);
  const enabled = serverAdminToken(config) !== undefined;
  return (
    <main className="narrow">
      <h1>Sign in</h1>
      {enabled ? (
        <form method="post" action="/api/auth/login" className="stack">
          <p>
            Enter the admin token. <code>npm start</code> prints it on first start and keeps it in the data
            directory (<code>.data/admin-token</code>), or set <code>OMNIOPS_ADMIN_TOKEN</code>.
          </p>
          {params.error === 'invalid' && (
            <p role="alert" className="status-bad">
              That admin token is not valid.
            </p>
          )}
          <label htmlFor="token">Admin token</label>
          <input id="token" name="token" type="password" autoComplete="current-password" required autoFocus />
          <input type="hidden" name="next" value={next} />
          <button type="submit">Sign in</button>
        </form>
      ) : (
        <p role="alert">
          Admin sign-in is disabled on this deployment: it uses Supabase, where staff sign in with Supabase Auth. Set{' '}
          <code>OMNIOPS_ADMIN_TOKEN</code> to enable an admin token.
        </p>
      )}
    </main>
  );
}
