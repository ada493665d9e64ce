import fs from 'node:fs';
import os from 'node:os';
import type { TestProject } from 'vitest/node';
import { databasePrefix, listLeftovers, runFolder, spawnReaper, sweep, type Leftovers } from './leftovers';
import { ensurePostgres, ensureRedis, type RedisService } from './services';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL server for this run; test files create their own databases on it. */
    postgresUrl: string;
    /** URL of the Redis server for this run (DB 0 is shared: test files use their own key prefix). */
    redisUrl: string;
    /** Prefix of this run's databases (tests/support/leftovers.ts): swept at its end, or by a later run. */
    databasePrefix: string;
  }
}

/** Databases and folders of this run, or of runs that are gone, in a listing: none may remain. */
function notSwept(found: Leftovers, pid: number): string[] {
  const prefix = databasePrefix('vitest', pid);
  const folder = runFolder('vitest', pid, baseTmp);
  return [...found.databases.filter((d) => d.startsWith(prefix)), ...found.folders.filter((f) => f === folder)];
}

// The temp directory before this run points TMPDIR into its own folder.
const baseTmp = os.tmpdir();

export default async function setup(project: TestProject) {
  // Every temp folder the run makes — an embedded PostgreSQL's data directory, what a test or its
  // child processes make (os.tmpdir() reads TMPDIR) — lands in the run's folder, removed as a whole
  // at the end; the workers are started after this and inherit it.
  const folder = runFolder('vitest', process.pid, baseTmp);
  fs.mkdirSync(folder, { recursive: true });
  process.env.TMPDIR = folder;
  const pg = await ensurePostgres();
  let redis: RedisService;
  try {
    redis = await ensureRedis();
  } catch (error) {
    await pg.stop(); // an embedded PostgreSQL started above must not outlive the failed setup
    throw error;
  }
  // Before: what interrupted runs left is removed (only theirs: other checkouts' runs may be going).
  await sweep(pg.url, 'stale', baseTmp);
  spawnReaper(pg.url, process.pid, baseTmp);
  project.provide('postgresUrl', pg.url);
  project.provide('redisUrl', redis.url);
  project.provide('databasePrefix', databasePrefix('vitest', process.pid));
  return async () => {
    process.env.TMPDIR = baseTmp;
    // After: this run's databases (a file that failed before dropping its own) go while the server
    // is up, its folder once the services are stopped (an embedded PostgreSQL's data directory is
    // in it), and the listings prove it.
    let left: string[] = [];
    try {
      await sweep(pg.url, { pid: process.pid }, baseTmp, { folders: false });
      left = notSwept(await listLeftovers(pg.url, baseTmp), process.pid).filter((name) => name !== folder);
    } finally {
      await Promise.all([pg.stop(), redis.stop()]);
    }
    await sweep(undefined, { pid: process.pid }, baseTmp);
    left.push(...notSwept(await listLeftovers(undefined, baseTmp), process.pid));
    if (left.length > 0) throw new Error(`[omniops] [tests] the run left behind: ${left.join(', ')}`);
  };
}
