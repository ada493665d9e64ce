/**
 * Cache fixtures: every test file works under its own key prefix on the shared Redis (DB 0 may be
 * used by other runs at the same time, so nothing is ever flushed) and deletes its keys afterwards.
 */
import crypto from 'node:crypto';
import { createClient } from 'redis';
import type { Logger } from '@/lib/log';

export function uniquePrefix(label: string): string {
  return `omniops:test:${label}:${crypto.randomBytes(6).toString('hex')}:`;
}

/** Delete every key under `prefix` (SCAN + UNLINK: never FLUSHDB on a shared server). */
export async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const client = createClient({ url: redisUrl, RESP: 2 });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    client.destroy();
  }
}

/** The same server as `url`, reached through another port (a TCP proxy in front of it). */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

/** A logger that keeps its lines, to check that a transition is logged exactly once. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string) => {
    lines.push(`${level} ${message}`);
  };
  return { lines, debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}
