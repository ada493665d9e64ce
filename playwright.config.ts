import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig, devices } from '@playwright/test';
import { CRON_SECRET } from './tests/e2e/env';

/**
 * e2e tests drive the real app, started the way users start it (`npm start`: build if needed,
 * migrate the embedded database, seed, serve) on a fresh data directory, in real Chromium.
 * `npx playwright install` cannot download browsers here: Debian's chromium is used when present.
 */
const port = 3210;
const dataDir = path.join(os.tmpdir(), `omniops-e2e-${port}`);
const systemChromium = '/usr/bin/chromium';

export default defineConfig({
  testDir: 'tests/e2e',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  timeout: 60_000,
  use: {
    baseURL: `http://127.0.0.1:${port}`,
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
  webServer: {
    command: `rm -rf ${dataDir} && node node_modules/tsx/dist/cli.mjs scripts/start.ts`,
    url: `http://127.0.0.1:${port}/api/health`,
    // The first run builds the app (once per run, not per test).
    timeout: 600_000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      PORT: String(port),
      OMNIOPS_DATA_DIR: dataDir,
      // The embedded default: no remote backend even if the calling shell has one configured.
      DATABASE_URL: '',
      NEXT_PUBLIC_SUPABASE_URL: '',
      SUPABASE_SERVICE_ROLE_KEY: '',
      REDIS_URL: '',
      UPSTASH_REDIS_REST_URL: '',
      UPSTASH_REDIS_REST_TOKEN: '',
      // The route tests' secret; CRON_MODE unset: the default in-process scheduler.
      CRON_SECRET,
      CRON_MODE: '',
    },
  },
});
