import type { Health } from '@/lib/health';

/** The health of each storage tier, as a definition list. */
export function StorageTiers({ health }: { health: Health }) {
  return (
    <dl className="health" aria-label="Storage tier health">
      <dt>Permanent</dt>
      <dd>
        <span className={health.db.ok ? 'status-ok' : 'status-bad'}>{health.db.ok ? 'ok' : 'unavailable'}</span> —{' '}
        <code>{health.db.kind}</code>
        {health.db.latencyMs !== null && <> · {health.db.latencyMs} ms</>}
        {health.db.schemaVersion && <> · schema {health.db.schemaVersion}</>}
        {health.db.error && <> · {health.db.error}</>}
        {health.db.fallbackActive && (
          <>
            {' '}
            · <span className="status-bad">primary {health.db.primary} unreachable since {health.db.since}</span>: serving
            from the embedded database, {health.db.journalPending} write(s) waiting to be replayed
          </>
        )}
        {health.db.journalFailed > 0 && (
          <>
            {' '}
            · <span className="status-bad">{health.db.journalFailed} journaled write(s) refused by the primary</span>
          </>
        )}
      </dd>
      <dt>Ephemeral</dt>
      <dd>
        <span className={health.cache.degraded ? 'status-bad' : 'status-ok'}>
          {health.cache.degraded ? 'degraded — serving from memory' : 'ok'}
        </span>{' '}
        — <code>{health.cache.kind}</code> · since {health.cache.since}
      </dd>
    </dl>
  );
}
