/**
 * Health of the storage tiers, as served by `/api/health`.
 */
import type { Config } from '@/lib/config';
import { primaryKind, resolveDb } from '@/lib/db/resolve';
import type { DbKind } from '@/lib/db/types';

export interface Health {
  ok: boolean;
  db: {
    kind: DbKind;
    ok: boolean;
    latencyMs: number | null;
    schemaVersion: string | null;
    serverVersion: string | null;
    error: string | null;
  };
  cache: { kind: 'memory' | 'redis' | 'upstash' };
  time: string;
}

interface SystemHealth {
  ok: boolean;
  schemaVersion: string | null;
  serverVersion: string;
}

export async function getHealth(config: Config): Promise<Health> {
  const kind = primaryKind(config);
  const started = performance.now();
  let db: Health['db'];
  try {
    const info = await (await resolveDb(config)).rpc<SystemHealth>('system_health');
    db = {
      kind,
      ok: info.ok,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      schemaVersion: info.schemaVersion,
      serverVersion: info.serverVersion,
      error: null,
    };
  } catch (error) {
    db = { kind, ok: false, latencyMs: null, schemaVersion: null, serverVersion: null, error: (error as Error).message };
  }
  return {
    ok: db.ok,
    db,
    // The ephemeral tier is in-memory until the Redis cache lands (issue 3).
    cache: { kind: 'memory' },
    time: new Date().toISOString(),
  };
}
