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
      <dl className="health" aria-label="Storage tier health">
        <dt>Permanent</dt>
        <dd>
          <span className={health.db.ok ? 'status-ok' : 'status-bad'}>{health.db.ok ? 'ok' : 'unavailable'}</span>{' '}
          — <code>{health.db.kind}</code>
          {health.db.latencyMs !== null && <> · {health.db.latencyMs} ms</>}
          {health.db.schemaVersion && <> · schema {health.db.schemaVersion}</>}
          {health.db.error && <> · {health.db.error}</>}
        </dd>
        <dt>Ephemeral</dt>
        <dd>
          <span className={health.cache.degraded ? 'status-bad' : 'status-ok'}>
            {health.cache.degraded ? 'degraded — serving from memory' : 'ok'}
          </span>{' '}
          — <code>{health.cache.kind}</code> · since {health.cache.since}
        </dd>
      </dl>
      <p>
        Machine-readable: <a href="/api/health">/api/health</a>
      </p>
    </main>
  );
}
