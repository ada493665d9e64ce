/**
 * Before the e2e run (Playwright starts the apps first): the databases and folders of earlier runs
 * that were interrupted are removed — only theirs (tests/support/leftovers.ts) — and a reaper is
 * started that removes this run's own should it be interrupted too. The returned teardown removes
 * them at the end (the apps are still up then: their databases are dropped with force) and checks
 * the server and the temp directory: nothing of this run, nor of any run that is gone, may remain.
 */
import { loadConfig } from '@/lib/config';
import { databasePrefix, isRunning, listLeftovers, spawnReaper, sweep, type Leftovers } from '../support/leftovers';
import { DEFAULT_POSTGRES_URL, probePostgres } from '../support/services';
import fs from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { E2E_BASE_TMP, E2E_PORT, E2E_RUN_DIR, E2E_RUN_PID } from './server';

/**
 * Before runs were named with their pid, this checkout's e2e databases and data directories were
 * named by its ports alone (`omniops_e2e_<port>`, `<tmp>/omniops-e2e-<port>`) and kept after the run.
 * They are this checkout's (the ports derive from its path, and one checkout runs one e2e suite at
 * a time: the ports are fixed), so they are removed once.
 */
async function removeUnmarkedOfThisCheckout(server: string | undefined): Promise<void> {
  const ports = Array.from({ length: 5 }, (_, i) => E2E_PORT + i);
  for (const port of ports) fs.rmSync(path.join(E2E_BASE_TMP, `omniops-e2e-${port}`), { recursive: true, force: true });
  if (!server) return;
  const sql = postgres(server, { max: 1, onnotice: () => {} });
  try {
    for (const port of ports) await sql.unsafe(`drop database if exists omniops_e2e_${port} with (force)`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Names in a listing that belong to this run or to a run whose process is gone. */
function notSwept(found: Leftovers): string[] {
  const mine = databasePrefix('e2e', E2E_RUN_PID);
  const stale = (name: string) => {
    const pid = /_p(\d+)_|-p(\d+)$/.exec(name);
    return pid !== null && !isRunning(Number(pid[1] ?? pid[2]));
  };
  return [
    ...found.databases.filter((d) => d.startsWith(mine) || stale(d)),
    ...found.folders.filter((f) => f === E2E_RUN_DIR || stale(f)),
  ];
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const url = loadConfig().databaseUrl ?? DEFAULT_POSTGRES_URL;
  // No shared server: each app started an embedded PostgreSQL of its own (gone with it).
  const server = (await probePostgres(url)) ? undefined : url;
  await sweep(server, 'stale', E2E_BASE_TMP);
  await removeUnmarkedOfThisCheckout(server);
  const before = notSwept(await listLeftovers(server, E2E_BASE_TMP)).filter((name) => name !== E2E_RUN_DIR && !name.startsWith(databasePrefix('e2e', E2E_RUN_PID)));
  if (before.length > 0) throw new Error(`[omniops] [e2e] stale leftovers could not be removed: ${before.join(', ')}`);
  spawnReaper(server, E2E_RUN_PID, E2E_BASE_TMP);
  return async () => {
    await sweep(server, { pid: E2E_RUN_PID }, E2E_BASE_TMP);
    const left = notSwept(await listLeftovers(server, E2E_BASE_TMP));
    if (left.length > 0) throw new Error(`[omniops] [e2e] the run left behind: ${left.join(', ')}`);
  };
}
