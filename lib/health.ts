/**
 * Health of the storage tiers, as served by `/api/health`.
 */
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import type { CacheState } from '@/lib/cache/fallback';
import type { Config } from '@/lib/config';
import { servingStatus } from '@/lib/db/fallback';
import { primaryKind, resolveDb } from '@/lib/db/resolve';
import type { DbKind, ServingStatus } from '@/lib/db/types';

export interface Health {
  ok: boolean;
  db: ServingStatus & {
    /** The backend answering now: the primary's kind, or 'pglite' while the fallback serves. */
    kind: DbKind;
    ok: boolean;
    latencyMs: number | null;
    schemaVersion: string | null;
    serverVersion: string | null;
    error: string | null;
  };
  /** A degraded cache still serves (from memory), so it does not make `ok` false. */
  cache: CacheState;
  time: string;
}

/**
 * What anyone may know: up or down. The details (addresses in connection errors, server and schema
 * versions, the cache backend, the outage journal) map the deployment for an attacker, so they are
 * for signed-in staff and monitoring holding CRON_SECRET (app/api/health/route.ts).
 */
export interface PublicHealth {
  status: 'up' | 'down';
}

export function publicHealth(health: Pick<Health, 'ok'>): PublicHealth {
  return { status: health.ok ? 'up' : 'down' };
}

interface SystemHealth {
  ok: boolean;
  schemaVersion: string | null;
  serverVersion: string;
}

export async function getHealth(config: Config): Promise<Health> {
  const cache = getRedisClientWithFallback(config);
  // Through the fallback: bounded by its budget and never rejected for an outage, but it counts
  // towards the circuit breaker and, while degraded, triggers the due probe, so the state is fresh.
  const cachePing = cache.ping();
  const primary = primaryKind(config);
  const started = performance.now();
  let db: Health['db'];
  try {
    const serving = await resolveDb(config);
    const info = await serving.rpc<SystemHealth>('system_health');
    const status = await servingStatus(serving);
    db = {
      ...status,
      kind: status.fallbackActive ? 'pglite' : primary,
      ok: info.ok,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      schemaVersion: info.schemaVersion,
      serverVersion: info.serverVersion,
      error: null,
    };
  } catch (error) {
    const message = (error as Error).message;
    db = {
      kind: primary,
      primary,
      ok: false,
      fallbackActive: false,
      since: null,
      journalPending: 0,
      journalFailed: 0,
      lastError: message,
      generation: 0,
      latencyMs: null,
      schemaVersion: null,
      serverVersion: null,
      error: message,
    };
  }
  await cachePing;
  return {
    ok: db.ok,
    db,
    cache: cache.state(),
    time: new Date().toISOString(),
  };
}
