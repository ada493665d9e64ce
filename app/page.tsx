import { StorageTiers } from '@/app/_components/storage-tiers';
import { currentStaff } from '@/lib/auth/current-staff';
import { getConfig } from '@/lib/config';
import { getHealth, publicHealth } from '@/lib/health';

export const dynamic = 'force-dynamic';

export default async function HomePage() {
  const health = await getHealth(getConfig());
  // The tiers' details (addresses, versions) for signed-in staff only, as in /api/health.
  const staff = await currentStaff().catch(() => null);
  return (
    <main>
      <h1>Omniops</h1>
      <p>
        The persistence and delivery backbone of an embeddable support chat: every message a visitor types is kept
        until it is delivered, exactly once, and every crawl of a customer&apos;s site leaves a permanent audit trail.
      </p>
      <h2>Storage tiers</h2>
      {staff ? (
        <StorageTiers health={health} />
      ) : (
        <p aria-label="Service status">
          Service: <span className={health.ok ? 'status-ok' : 'status-bad'}>{publicHealth(health).status}</span>
        </p>
      )}
      <p>
        Machine-readable: <a href="/api/health">/api/health</a> · Staff: <a href="/dashboard">dashboard</a>
      </p>
    </main>
  );
}
