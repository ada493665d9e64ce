/**
 * An exclusive lock on a data directory, held by one process at a time.
 *
 * PGlite has no lock of its own: a second instance on the same directory opens without error and
 * can corrupt it. The lock file records the owner's pid; a lock whose process is gone (crash,
 * SIGKILL) is stale and taken over at once, so a restart never waits for a timeout. This is
 * single-host by design, as the embedded database is.
 */
import fs from 'node:fs';
import os from 'node:os';

interface LockOwner {
  pid: number;
  hostname: string;
  startedAt: string;
  command: string;
}

export class DirLockError extends Error {
  override readonly name = 'DirLockError';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner;
  } catch {
    return undefined; // unreadable or half-written: treated as stale
  }
}

/** Take the lock at `lockPath` or throw `DirLockError` naming the process that holds it. Returns the release function. */
export function acquireDirLock(lockPath: string, what: string): () => void {
  const me: LockOwner = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(' '),
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, JSON.stringify(me), { flag: 'wx', mode: 0o600 });
      const release = () => {
        process.off('exit', release);
        if (readOwner(lockPath)?.pid === me.pid) fs.rmSync(lockPath, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(lockPath);
    const heldByOther =
      owner !== undefined && owner.pid !== process.pid && owner.hostname === me.hostname && isAlive(owner.pid);
    if (heldByOther) {
      throw new DirLockError(
        `[omniops] [db] ${what} is in use by process ${owner.pid} (${owner.command || 'unknown command'}, since ${owner.startedAt}). ` +
          'Stop that process first, or point OMNIOPS_DATA_DIR at another directory.',
      );
    }
    fs.rmSync(lockPath, { force: true }); // stale: its owner is gone
  }
  throw new DirLockError(`[omniops] [db] could not take the lock ${lockPath} for ${what}`);
}
