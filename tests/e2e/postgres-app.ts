/**
 * Starts the app the way a self-hosted deployment on PostgreSQL runs it, for the e2e tests: a fresh
 * database (on the run's PostgreSQL server, or an embedded one where none runs and services are not
 * required), migrated with `npm run db:migrate`'s runner, then `npm start` with DATABASE_URL and no
 * fallback. Lives as long as the server; stops it (and an embedded PostgreSQL) on SIGTERM/SIGINT.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensurePostgres, recreateMigratedDatabase } from '../support/services';
import { E2E_PG_DB_NAME } from './server';

const dataDir = process.env.OMNIOPS_DATA_DIR!;
const service = await ensurePostgres();
const db = await recreateMigratedDatabase(service.url, E2E_PG_DB_NAME, 1);
const url = new URL(service.url);
url.pathname = `/${E2E_PG_DB_NAME}`;
await db.close();
fs.mkdirSync(dataDir, { recursive: true });
fs.writeFileSync(path.join(dataDir, 'database-url'), url.toString());

const server = spawn(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/start.ts'], {
  stdio: 'inherit',
  env: { ...process.env, DATABASE_URL: url.toString(), DB_FALLBACK: 'off' },
});
const stop = () => server.kill('SIGTERM');
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const code = await new Promise<number>((resolve) => server.once('exit', (c) => resolve(c ?? 1)));
await service.stop();
process.exit(code);
