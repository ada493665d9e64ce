/**
 * The postgres.js driver is patched at install (`postinstall: patch-package`,
 * patches/postgres+3.4.9.patch; docs/dependencies.md says why): 3.4.9 throws from a timer when a
 * connection closes with a write still buffered — an uncaught TypeError that ends the server
 * process, met here when the outage fallback drops a hung primary's connections. This checks that
 * every build of the driver the app can load carries the guard, so an install that skipped the
 * patch fails the suite instead of a server in production.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../node_modules/postgres');

describe('the patched postgres.js driver', () => {
  it('is the version the patch was made for', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(fs.existsSync(path.resolve(__dirname, `../../patches/postgres+${version}.patch`))).toBe(true);
  });

  it.each(['src', 'cjs/src', 'cf/src'])('settles instead of throwing when the socket is gone (%s)', (dir) => {
    const source = fs.readFileSync(path.join(root, dir, 'connection.js'), 'utf8');
    const nextWrite = source.slice(source.indexOf('function nextWrite('), source.indexOf('function connectTimedOut('));
    expect(nextWrite).toMatch(/if \(!socket\) \{[\s\S]*error\(Errors\.connection\('CONNECTION_CLOSED'/);
    // Teardown forgets the buffered write, so a later write cannot send a stale one.
    expect(source.match(/\n\s+clearImmediate\(nextWriteTimer\)\n\s+chunk = nextWriteTimer = null/g)).toHaveLength(2);
  });
});
