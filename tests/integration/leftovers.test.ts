/**
 * Test runs leave nothing behind (tests/support/leftovers.ts): a run's databases and folders carry
 * its root process's pid; the sweep at a run's start removes those of runs whose process is gone and
 * never those of a run still going (another checkout's suite on the same server) or unmarked ones;
 * the reaper removes a run's own once its process ends, however it ended (here: SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databasePrefix, isRunning, listLeftovers, runFolder, spawnReaper, sweep } from '../support/leftovers';

/** A process that runs until killed. */
function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('leftovers of test runs', () => {
  const serverUrl = inject('postgresUrl');
  const baseTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-'));
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  const made: string[] = [];
  let live: ChildProcess;
  let dead: ChildProcess;

  async function leave(kind: 'vitest' | 'e2e', pid: number): Promise<{ database: string; folder: string }> {
    const database = `${databasePrefix(kind, pid)}leftover`;
    await sql.unsafe(`create database "${database}"`);
    made.push(database);
    const folder = runFolder(kind, pid, baseTmp);
    fs.mkdirSync(path.join(folder, 'pglite'), { recursive: true });
    return { database, folder };
  }

  beforeAll(async () => {
    live = sleeper();
    dead = sleeper();
    dead.kill('SIGKILL');
    await exited(dead);
  });
  afterAll(async () => {
    live.kill('SIGKILL');
    for (const name of made) await sql.unsafe(`drop database if exists "${name}" with (force)`);
    await sql.end();
  });

  it('the start of a run removes what runs that are gone left, and nothing of a run still going or unmarked', async () => {
    expect(isRunning(live.pid!)).toBe(true);
    expect(isRunning(dead.pid!)).toBe(false);
    const gone = [await leave('vitest', dead.pid!), await leave('e2e', dead.pid!)];
    const going = [await leave('vitest', live.pid!), await leave('e2e', live.pid!)];
    const unmarked = 'omniops_t_unmarked_by_any_run';
    await sql.unsafe(`create database "${unmarked}"`);
    made.push(unmarked);
    fs.mkdirSync(path.join(baseTmp, 'omniops-e2e-3200'));

    const before = await listLeftovers(serverUrl, baseTmp);
    for (const { database, folder } of [...gone, ...going]) {
      expect(before.databases).toContain(database);
      expect(before.folders).toContain(folder);
    }
    const removed = await sweep(serverUrl, 'stale', baseTmp);
    expect(removed.databases).toEqual(expect.arrayContaining(gone.map((g) => g.database)));
    expect(removed.folders.sort()).toEqual(gone.map((g) => g.folder).sort());

    const after = await listLeftovers(serverUrl, baseTmp);
    for (const { database, folder } of gone) {
      expect(after.databases).not.toContain(database);
      expect(after.folders).not.toContain(folder);
    }
    for (const { database, folder } of going) {
      expect(after.databases).toContain(database);
      expect(after.folders).toContain(folder);
    }
    expect(after.databases).toContain(unmarked);
    expect(after.folders).toContain(path.join(baseTmp, 'omniops-e2e-3200'));
  });

  it('a run killed before its teardown is cleaned up by its reaper as soon as its process is gone', async () => {
    const run = sleeper();
    const left = await leave('vitest', run.pid!);
    spawnReaper(serverUrl, run.pid!, baseTmp);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Still running: the reaper waits.
    expect((await listLeftovers(serverUrl, baseTmp)).databases).toContain(left.database);
    run.kill('SIGKILL');
    await exited(run);
    await expect
      .poll(async () => {
        const now = await listLeftovers(serverUrl, baseTmp);
        return now.databases.includes(left.database) || now.folders.includes(left.folder);
      }, { timeout: 15_000, interval: 250 })
      .toBe(false);
  });
});
