import fs from 'node:fs';
import { defineConfig, devices } from '@playwright/test';
import { loadConfig } from './lib/config';
import { DEFAULT_POSTGRES_URL } from './tests/support/services';
import {
  CRON_SECRET,
  E2E_DATA_DIR,
  E2E_DB_APP_PORT,
  E2E_DB_DATA_DIR,
  E2E_DB_NAME,
  E2E_DB_PROXY_PORT,
  E2E_METRICS_TOKEN,
  E2E_PG_APP_PORT,
  E2E_PG_DATA_DIR,
  E2E_PORT,
  E2E_REDIS_APP_PORT,
  E2E_REDIS_DATA_DIR,
  E2E_REDIS_PROXY_PORT,
  E2E_RUN_DIR,
  E2E_SB_APP_PORT,
  E2E_SB_DATA_DIR,
} from './tests/e2e/server';

// Everything the run's processes write to the temp directory (the apps' data directories, browser
// profiles, exports) goes into the run's own folder, which the global setup's teardown removes (and,
// if the run is interrupted, its reaper or the next run: tests/support/leftovers.ts). Workers and
// the apps inherit TMPDIR.
fs.mkdirSync(E2E_RUN_DIR, { recursive: true });
process.env.TMPDIR = E2E_RUN_DIR;

/**
 * e2e tests drive the real app, started the way users start it (`npm start`: build if needed,
 * migrate the embedded database, seed, serve) on a fresh data directory, in real Chromium.
 * `npx playwright install` cannot download browsers here: Debian's chromium is used when present.
 */
const systemChromium = '/usr/bin/chromium';

/** The embedded default: no remote backend even if the calling shell has one configured. */
const noRemoteBackends = {
  DATABASE_URL: '',
  NEXT_PUBLIC_SUPABASE_URL: '',
  NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: '',
  SUPABASE_SECRET_KEY: '',
  NEXT_PUBLIC_SUPABASE_ANON_KEY: '',
  SUPABASE_SERVICE_ROLE_KEY: '',
  REDIS_URL: '',
  UPSTASH_REDIS_REST_URL: '',
  UPSTASH_REDIS_REST_TOKEN: '',
};

/** `npm start` on a fresh data directory, the way users start the app (or `script`, which runs it). */
function npmStart(listenPort: number, appDataDir: string, env: Record<string, string>, script = 'scripts/start.ts') {
  return {
    command: `rm -rf ${appDataDir} && node node_modules/tsx/dist/cli.mjs ${script}`,
    url: `http://127.0.0.1:${listenPort}/api/health`,
    // The first run builds the app (once per run, not per test).
    timeout: 600_000,
    reuseExistingServer: false,
    // The apps' info lines (start-up banner, cron runs) are not shown: a passing run prints no
    // log lines. Their warnings and errors (stderr) are, with the failing test they explain.
    stdout: 'ignore' as const,
    stderr: 'pipe' as const,
    env: {
      PORT: String(listenPort),
      OMNIOPS_DATA_DIR: appDataDir,
      ...noRemoteBackends,
      // The cron route tests' secret; CRON_MODE unset: the default in-process scheduler.
      CRON_SECRET,
      CRON_MODE: '',
      // The specs give their requests addresses of their own with X-Forwarded-For (separate rate
      // limit buckets), as a proxy in front of the server would: trust one such hop.
      TRUST_PROXY_HOPS: '1',
      // The specs' fixture sites are on 127.0.0.1, which the crawler refuses unless allowed.
      CRAWL_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
      ...env,
    },
  };
}

/**
 * The database-outage instance's DATABASE_URL: the run's PostgreSQL server (its credentials) but
 * reached through the test's proxy port, on the database the test creates.
 */
function outageDatabaseUrl(): string {
  const server = new URL(loadConfig().databaseUrl ?? DEFAULT_POSTGRES_URL);
  const url = new URL(`postgres://127.0.0.1:${E2E_DB_PROXY_PORT}/${E2E_DB_NAME}`);
  url.username = server.username || 'postgres';
  // The embedded PostgreSQL the tests start where none runs uses postgres/postgres.
  url.password = server.password || 'postgres';
  return url.toString();
}

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '**/*.spec.ts',
  globalSetup: './tests/e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  timeout: 60_000,
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: fs.existsSync(systemChromium) ? systemChromium : undefined,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run',
          ],
        },
      },
    },
  ],
  // Started one after the other: the first builds the app, the second reuses the build.
  webServer: [
    npmStart(E2E_PORT, E2E_DATA_DIR, {}),
    npmStart(E2E_REDIS_APP_PORT, E2E_REDIS_DATA_DIR, {
      REDIS_URL: `redis://127.0.0.1:${E2E_REDIS_PROXY_PORT}`,
      // Probe often, so the test sees recoveries in well under a second.
      CACHE_PROBE_INTERVAL_MS: '200',
      CACHE_KEY_PREFIX: 'omniops:e2e:',
    }),
    npmStart(E2E_DB_APP_PORT, E2E_DB_DATA_DIR, {
      DATABASE_URL: outageDatabaseUrl(),
      DB_FALLBACK: 'embedded',
      DB_CONNECT_TIMEOUT_MS: '1000',
      DB_PROBE_INTERVAL_MS: '300',
      OMNIOPS_METRICS_TOKEN: E2E_METRICS_TOKEN,
    }),
    npmStart(E2E_PG_APP_PORT, E2E_PG_DATA_DIR, {}, 'tests/e2e/postgres-app.ts'),
    npmStart(E2E_SB_APP_PORT, E2E_SB_DATA_DIR, {}, 'tests/e2e/supabase-app.ts'),
  ],
});
