/**
 * Starts the app configured as on Supabase, for the e2e tests: a fresh migrated database (as
 * `supabase db push` leaves it), the PostgREST double on it behind a GoTrue-protocol server (one
 * base URL, as a Supabase project has), then `npm start` with NEXT_PUBLIC_SUPABASE_URL, the project's
 * current keys under their current names (NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY = `sb_publishable_…`,
 * SUPABASE_SECRET_KEY = `sb_secret_…`: not JWTs; tests/integration/staff-auth.test.ts also runs the
 * legacy JWT keys under the legacy names) and an explicit admin token. Writes
 * `{ url, publishableKey, secretKey }` to `<data dir>/supabase.json`. Lives as long as the server;
 * stops it on SIGTERM/SIGINT.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startGotrueServer } from '../support/gotrue-server';
import { startPostgrestServer } from '../support/postgrest-server';
import { ensurePostgres, recreateMigratedDatabase } from '../support/services';
import { E2E_SB_ADMIN_TOKEN, E2E_SB_DB_NAME } from './server';

const dataDir = process.env.OMNIOPS_DATA_DIR!;
const service = await ensurePostgres();
const db = await recreateMigratedDatabase(service.url, E2E_SB_DB_NAME, 1);
await db.close();
const databaseUrl = new URL(service.url);
databaseUrl.pathname = `/${E2E_SB_DB_NAME}`;
const jwtSecret = crypto.randomBytes(32).toString('hex');
const postgrest = await startPostgrestServer({ databaseUrl: databaseUrl.toString(), jwtSecret });
// Access tokens live 100 s: inside auth-js's 90 s refresh margin after 10 s, so a test that waits
// sees proxy.ts refresh the session.
const gotrue = await startGotrueServer({ jwtSecret, upstream: postgrest.url, accessTokenTtlSeconds: 100 });
const project = { url: gotrue.url, publishableKey: postgrest.publishableKey, secretKey: postgrest.secretKey };
fs.mkdirSync(dataDir, { recursive: true });
fs.writeFileSync(path.join(dataDir, 'supabase.json'), JSON.stringify(project));

const server = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
  stdio: 'inherit',
  env: {
    ...process.env,
    NEXT_PUBLIC_SUPABASE_URL: project.url,
    NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: project.publishableKey,
    SUPABASE_SECRET_KEY: project.secretKey,
    OMNIOPS_ADMIN_TOKEN: E2E_SB_ADMIN_TOKEN,
    DB_FALLBACK: 'off',
  },
});
const stop = () => server.kill('SIGTERM');
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const code = await new Promise<number>((resolve) => server.once('exit', (c) => resolve(c ?? 1)));
await gotrue.close();
await postgrest.close();
await service.stop();
process.exit(code);
