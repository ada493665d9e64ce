import { StorageTiers } from '@/app/_components/storage-tiers';
import { getConfig } from '@/lib/config';
import { getHealth } from '@/lib/health';

export const dynamic = 'force-dynamic';

export default async function HomePage() {
  const health = await getHealth(getConfig());
  return (
    <main>
      <h1>Omniops</h1>
      <p>
        The persistence and delivery backbone of an embeddable support chat: every message a visitor types is kept
        until it is delivered, exactly once, and every crawl of a customer&apos;s site leaves a permanent audit trail.
      </p>
      <h2>Storage tiers</h2>
      <StorageTiers health={health} />
      <p>
        Machine-readable: <a href="/api/health">/api/health</a> · Staff: <a href="/dashboard">dashboard</a>
      </p>
    </main>
  );
}
