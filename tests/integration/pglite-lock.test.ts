/**
 * The embedded database is one process's: a second process gets a clear error instead of opening
 * (and possibly corrupting) the directory; a lock left by a dead process is taken over at once.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDb } from '@/lib/db/pglite';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('embedded database lock', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-lock-'));
  });
  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a second process while the first holds it, and frees it on close', async () => {
    const dir = path.join(dataDir, 'pglite');
    const db = await PgliteDb.open(dir);
    const again = await PgliteDb.open(dir); // same process: shared, not reopened
    const migrateCli = () =>
      run(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/migrate.ts', '--status'], {
        cwd: root,
        env: { ...process.env, DATABASE_URL: '', OMNIOPS_DATA_DIR: dataDir },
      });
    try {
      await expect(migrateCli()).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(new RegExp(`in use by process ${process.pid} .*Stop that process first`)),
      });
      await again.close();
      await expect(db.admin.query('select 1 as one')).resolves.toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
    const { stdout } = await migrateCli();
    expect(stdout).toContain('pending  20261122000000_bootstrap');
  });

  it('takes over a stale lock whose process is gone', async () => {
    const dir = path.join(dataDir, 'stale');
    fs.writeFileSync(
      `${dir}.lock`,
      JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname(), startedAt: '2020-01-01T00:00:00Z', command: 'crashed' }),
    );
    const db = await PgliteDb.open(dir);
    try {
      expect(JSON.parse(fs.readFileSync(`${dir}.lock`, 'utf8')).pid).toBe(process.pid);
    } finally {
      await db.close();
    }
  });
});
