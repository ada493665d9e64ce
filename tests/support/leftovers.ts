/**
 * What a test run leaves on the machine — databases on the PostgreSQL server, folders under the
 * system temp directory — named with the run that made them, so that the run removes them at its
 * end and a later run removes those of a run that was interrupted.
 *
 * Other checkouts run their suites on the same machine and server at the same time, so nothing is
 * removed by its look alone: every name carries the pid of its run's root process (the vitest or
 * Playwright main process) — databases `omniops_t_p<pid>_…` and `omniops_e2e_p<pid>_…`, folders
 * `omniops-vitest-p<pid>` and `omniops-e2e-p<pid>` — and a run removes its own, plus those whose pid
 * no longer runs (stale: their run was killed before it could clean up). Names without a marker
 * belong to older code and are left alone.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';

export type RunKind = 'vitest' | 'e2e';

const DATABASE = /^omniops_(?:t|e2e)_p(\d+)_[a-z0-9_]+$/;
const FOLDER = /^omniops-(?:vitest|e2e)-p(\d+)$/;

/** The database name prefix of a run (`omniops_t_p123_` for vitest, `omniops_e2e_p123_` for e2e). */
export function databasePrefix(kind: RunKind, pid: number): string {
  return `omniops_${kind === 'vitest' ? 't' : 'e2e'}_p${pid}_`;
}

/** The run's folder under `baseTmp` (the system temp directory before the run changed TMPDIR). */
export function runFolder(kind: RunKind, pid: number, baseTmp = os.tmpdir()): string {
  return path.join(baseTmp, `omniops-${kind}-p${pid}`);
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user — still running.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Leftovers {
  databases: string[];
  folders: string[];
}

/**
 * Every database and temp folder of any Omniops test run, marked or not (for before/after checks).
 * `serverUrl` undefined: no shared server (each e2e app then started an embedded one of its own,
 * gone with it), folders only.
 */
export async function listLeftovers(serverUrl: string | undefined, baseTmp = os.tmpdir()): Promise<Leftovers> {
  const folders = fs.readdirSync(baseTmp).filter((name) => name.startsWith('omniops-')).sort().map((name) => path.join(baseTmp, name));
  if (serverUrl === undefined) return { databases: [], folders };
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ datname: string }[]>`select datname from pg_database where datname like 'omniops\\_%' order by 1`;
    return { databases: rows.map((r) => r.datname), folders };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Remove the databases and folders of the runs `which` selects by pid: `{ pid }` one run (its own
 * end), `'stale'` every marked run whose process is gone. `serverUrl` undefined: folders only;
 * `folders: false`: databases only. Returns what was removed.
 */
export async function sweep(
  serverUrl: string | undefined,
  which: { pid: number } | 'stale',
  baseTmp = os.tmpdir(),
  { folders = true }: { folders?: boolean } = {},
): Promise<Leftovers> {
  const chosen = (name: string, pattern: RegExp) => {
    const pid = Number(pattern.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid)) return false;
    return which === 'stale' ? !isRunning(pid) : pid === which.pid;
  };
  const found = await listLeftovers(serverUrl, baseTmp);
  const removed: Leftovers = { databases: [], folders: [] };
  const databases = found.databases.filter((n) => chosen(n, DATABASE));
  if (serverUrl !== undefined && databases.length > 0) {
    const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
    try {
      for (const name of databases) {
        await sql.unsafe(`drop database if exists "${name}" with (force)`);
        removed.databases.push(name);
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  for (const folder of found.folders.filter((f) => folders && chosen(path.basename(f), FOLDER))) {
    fs.rmSync(folder, { recursive: true, force: true });
    removed.folders.push(folder);
  }
  return removed;
}

/**
 * Start a detached process that waits for `pid` to end and then removes its run's databases and
 * folders: the cleanup of a run that is interrupted (Ctrl-C, a killed process) before its teardown.
 * It stops by itself once it has done so.
 */
export function spawnReaper(serverUrl: string | undefined, pid: number, baseTmp: string): void {
  // Both runners run from the repository's root (package.json scripts).
  const args = ['node_modules/tsx/dist/cli.mjs', 'tests/support/reaper.ts', String(pid), baseTmp, ...(serverUrl ? [serverUrl] : [])];
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}
