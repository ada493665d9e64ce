import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { serverAdminToken } from '@/lib/auth/admin-session';
import { currentStaff } from '@/lib/auth/current-staff';
import { safeNextPath } from '@/lib/auth/redirect';
import { supabaseAuthEnabled } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';

export const metadata: Metadata = { title: 'Sign in' };
export const dynamic = 'force-dynamic';

const ERRORS: Record<string, string> = {
  invalid: 'That admin token is not valid.',
  credentials: 'Wrong email or password.',
  unavailable: 'The sign-in service is unavailable. Try again shortly.',
};

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  const next = safeNextPath(params.next);
  const config = getConfig();
  if (await currentStaff()) redirect(next);
  const tokenEnabled = serverAdminToken(config) !== undefined;
  const supabaseEnabled = supabaseAuthEnabled(config);
  const error = typeof params.error === 'string' ? ERRORS[params.error] : undefined;
  return (
    <main className="narrow">
      <h1>Sign in</h1>
      {error && (
        <p role="alert" className="status-bad">
          {error}
        </p>
      )}
      {supabaseEnabled && (
        <form method="post" action="/api/auth/login" className="stack" aria-labelledby="staff-sign-in">
          <h2 id="staff-sign-in">Staff account</h2>
          <label htmlFor="email">Email</label>
          <input id="email" name="email" type="email" autoComplete="username" required autoFocus />
          <label htmlFor="password">Password</label>
          <input id="password" name="password" type="password" autoComplete="current-password" required />
          <input type="hidden" name="next" value={next} />
          <button type="submit">Sign in</button>
        </form>
      )}
      {tokenEnabled && (
        <form method="post" action="/api/auth/login" className="stack" aria-labelledby={supabaseEnabled ? 'admin-sign-in' : undefined}>
          {supabaseEnabled && <h2 id="admin-sign-in">Administrator</h2>}
          <p>
            Enter the admin token. <code>npm start</code> prints it on first start and keeps it in the data
            directory (<code>.data/admin-token</code>), or set <code>OMNIOPS_ADMIN_TOKEN</code>.
          </p>
          <label htmlFor="token">Admin token</label>
          <input id="token" name="token" type="password" autoComplete="current-password" required autoFocus={!supabaseEnabled} />
          <input type="hidden" name="next" value={next} />
          <button type="submit">{supabaseEnabled ? 'Sign in as administrator' : 'Sign in'}</button>
        </form>
      )}
      {!supabaseEnabled && !tokenEnabled && (
        <p role="alert">
          Sign-in is not configured on this deployment: set <code>NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY</code> for staff accounts
          (Supabase Auth) or <code>OMNIOPS_ADMIN_TOKEN</code> for an admin token.
        </p>
      )}
    </main>
  );
}
