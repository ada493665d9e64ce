import { cookies } from 'next/headers';
import Link from 'next/link';
import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { SESSION_COOKIE, isAdminSession } from '@/lib/auth/admin-session';
import { getConfig } from '@/lib/config';

export const dynamic = 'force-dynamic';

const NAV = [
  ['/dashboard', 'Overview'],
  ['/dashboard/conversations', 'Conversations'],
  ['/dashboard/queue', 'Queue'],
  ['/dashboard/crawls', 'Crawl jobs'],
  ['/dashboard/customers', 'Customers'],
] as const;

/** Every dashboard page: signed-in staff only (proxy.ts checks first; this keeps the pages safe on their own). */
export default async function DashboardLayout({ children }: { children: ReactNode }) {
  if (!isAdminSession(getConfig(), (await cookies()).get(SESSION_COOKIE)?.value)) redirect('/login?next=/dashboard');
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
        <form method="post" action="/api/auth/logout">
          <button type="submit" className="secondary">
            Sign out
          </button>
        </form>
      </header>
      <main className="wide">{children}</main>
    </div>
  );
}
