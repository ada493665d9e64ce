import Link from 'next/link';
import { staffPage } from '@/lib/auth/page';
import { fallbackServing } from '@/lib/auth/staff';

export const dynamic = 'force-dynamic';

const NAV = [
  ['/dashboard', 'Overview'],
  ['/dashboard/conversations', 'Conversations'],
  ['/dashboard/queue', 'Queue'],
  ['/dashboard/crawls', 'Crawl jobs'],
  ['/dashboard/customers', 'Customers'],
] as const;

/**
 * Every dashboard page: signed-in staff only (proxy.ts checks first; this keeps the pages safe on
 * their own). Staff members (Supabase Auth) see the pages scoped to their customers.
 */
export default staffPage({ path: '/dashboard', customer: 'none' }, async ({ config, staff, children }) => {
  const outage = staff.kind === 'member' && (await fallbackServing(config));
  return (
    <div className="dashboard">
      <header className="dashboard-header">
        <Link href="/dashboard" className="brand">
          Omniops
        </Link>
        <nav aria-label="Dashboard">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <Link href={href}>{label}</Link>
              </li>
            ))}
          </ul>
        </nav>
        {staff.kind === 'member' && (
          <p className="muted signed-in-as">
            Signed in as {staff.user.email ?? staff.user.id}
          </p>
        )}
        <form method="post" action="/api/auth/logout">
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      </header>
      <main className="wide">
        {outage && (
          <p role="alert" className="status-bad">
            The database is unreachable and the embedded fallback is serving: staff accounts see their customers again once it is
            back. Visitors&apos; messages are kept meanwhile.
          </p>
        )}
        {staff.kind === 'member' && !outage && staff.memberships.length === 0 && (
          <p role="alert">Your account is not a member of any customer yet: ask an administrator to add you.</p>
        )}
        {children}
      </main>
    </div>
  );
});
