/**
 * Benchmark helpers: interleaved rounds (so drift in machine load hits both sides equally), median
 * of rounds, a plain table, and a throw-away PostgreSQL database. Benchmarks print figures; they
 * never assert timings.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '@/lib/config';

/** The PostgreSQL server benchmarks run on: DATABASE_URL, else the test server's address. */
export const benchPostgresUrl = (): string => loadConfig().databaseUrl ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Run `fn` with the URL of a new, empty database on that server; the database is dropped afterwards. */
export async function withBenchDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const adminUrl = benchPostgresUrl();
  const name = `omniops_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    try {
      return await fn(url.toString());
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
    }
  } finally {
    await admin.end();
  }
}

/**
 * Start the app as `npm start` does (scripts/start.ts: `next build` only when there is no build or
 * the sources changed since the last one, then the production server) on `port`, with `env` over
 * this process's environment and a fresh data directory; resolves once /api/health answers 200.
 * Its stderr (the app's warnings) goes to ours, and to `onStderr` too when given.
 */
export async function startApp(
  port: number,
  env: Record<string, string>,
  { onStderr }: { onStderr?: (text: string) => void } = {},
): Promise<ChildProcess> {
  const app = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
    env: { ...process.env, PORT: String(port), OMNIOPS_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-bench-')), ...env },
    stdio: ['ignore', 'ignore', onStderr ? 'pipe' : 'inherit'],
  });
  app.stderr?.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    onStderr?.(chunk.toString());
  });
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok) return app;
    } catch {
      // not up yet (the first run builds the app)
    }
    if (app.exitCode !== null) throw new Error('[bench] the app exited during start-up');
    await new Promise((r) => setTimeout(r, 500));
  }
  app.kill('SIGTERM');
  throw new Error('[bench] the app did not start');
}

/** Run `op` `count` times with at most `concurrency` in flight; returns operations per second. */
export async function opsPerSecond(op: (i: number) => Promise<unknown>, count: number, concurrency = 1): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return count / ((performance.now() - started) / 1000);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Measure `subject` against `baseline` in alternating rounds (after one warm-up round each) and
 * return the median ops/s of each.
 */
export async function compare(
  baseline: (i: number) => Promise<unknown>,
  subject: (i: number) => Promise<unknown>,
  { count, rounds, concurrency = 1 }: { count: number; rounds: number; concurrency?: number },
): Promise<{ baseline: number; subject: number }> {
  await opsPerSecond(baseline, Math.ceil(count / 4), concurrency);
  await opsPerSecond(subject, Math.ceil(count / 4), concurrency);
  const b: number[] = [];
  const s: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 0) {
      b.push(await opsPerSecond(baseline, count, concurrency));
      s.push(await opsPerSecond(subject, count, concurrency));
    } else {
      s.push(await opsPerSecond(subject, count, concurrency));
      b.push(await opsPerSecond(baseline, count, concurrency));
    }
  }
  return { baseline: median(b), subject: median(s) };
}

export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  console.log(`\n${title}`);
  cells.forEach((row, i) => {
    console.log('  ' + row.map((c, j) => String(c).padStart(j === 0 ? 0 : widths[j]!).padEnd(j === 0 ? widths[j]! : 0)).join('  '));
    if (i === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

function formatNumber(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** Duration of each of `count` sequential calls of `op`, in ms, sorted ascending. */
export async function latencies(op: (i: number) => Promise<unknown>, count: number): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op(i);
    durations.push(performance.now() - started);
  }
  return durations.sort((a, b) => a - b);
}

/** The `p`-th percentile (0–100) of ascending `sorted` values (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}
