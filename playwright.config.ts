import fs from 'node:fs';
import { defineConfig, devices } from '@playwright/test';
import { E2E_DATA_DIR as dataDir, E2E_PORT as port } from './tests/e2e/server';

/**
 * e2e tests drive the real app, started the way users start it (`npm start`: build if needed,
 * migrate the embedded database, seed, serve) on a fresh data directory, in real Chromium.
 * `npx playwright install` cannot download browsers here: Debian's chromium is used when present.
 */
const systemChromium = '/usr/bin/chromium';

export default defineConfig({
  testDir: 'tests/e2e',
  testMatch: '**/*.spec.ts',
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
    },
  },
});
