import type { Metadata } from 'next';
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { StorageTiers } from '@/app/_components/storage-tiers';
import { SESSION_COOKIE, isAdminSession } from '@/lib/auth/admin-session';
import { getConfig } from '@/lib/config';
import { getHealth } from '@/lib/health';

export const metadata: Metadata = { title: 'Overview' };
export const dynamic = 'force-dynamic';

export default async function DashboardPage() {
  const config = getConfig();
  // proxy.ts already guards this route; checking again here keeps the page safe on its own.
  if (!isAdminSession(config, (await cookies()).get(SESSION_COOKIE)?.value)) redirect('/login?next=/dashboard');
  const health = await getHealth(config);
  return (
    <main>
      <header className="bar">
        <h1>Overview</h1>
        <form method="post" action="/api/auth/logout">
          <button type="submit">Sign out</button>
        </form>
      </header>
      <h2>Storage tiers</h2>
      <StorageTiers health={health} />
    </main>
  );
}
