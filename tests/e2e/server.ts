import crypto from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { databasePrefix, runFolder } from '../support/leftovers';

/**
 * The run, for naming what it leaves (tests/support/leftovers.ts): the pid of Playwright's main
 * process, which evaluates this first; its workers and the servers it starts inherit the variable.
 */
export const E2E_RUN_PID = Number((process.env.OMNIOPS_E2E_RUN_PID ??= String(process.pid)));
/** The system temp directory (playwright.config.ts points TMPDIR into the run's folder). */
export const E2E_BASE_TMP = (process.env.OMNIOPS_E2E_BASE_TMP ??= os.tmpdir());
/** The run's folder: the apps' data directories and every temp file of the run; removed at its end. */
export const E2E_RUN_DIR = runFolder('e2e', E2E_RUN_PID, E2E_BASE_TMP);
const E2E_DB_PREFIX = databasePrefix('e2e', E2E_RUN_PID);

/**
 * Ports of the apps Playwright starts (playwright.config.ts) and their fresh, per-run data
 * directories. The base port is derived from the checkout's path, so two checkouts on one machine
 * can run e2e at once.
 */
export const E2E_PORT = 3200 + (crypto.createHash('sha256').update(process.cwd()).digest().readUInt16BE(0) % 700);
export const E2E_DATA_DIR = path.join(E2E_RUN_DIR, `app-${E2E_PORT}`);
/** A second instance with REDIS_URL pointing at a proxy the Redis-outage test controls. */
export const E2E_REDIS_APP_PORT = E2E_PORT + 1;
export const E2E_REDIS_DATA_DIR = path.join(E2E_RUN_DIR, `app-${E2E_REDIS_APP_PORT}`);
/** Where that proxy listens (nothing does until the test starts it). */
export const E2E_REDIS_PROXY_PORT = E2E_PORT + 9;

/** The cron routes' secret the e2e servers are started with. */
export const CRON_SECRET = 'e2e-cron-secret-0123456789abcdef';

/**
 * A third instance whose DATABASE_URL is a proxy the database-outage test controls (nothing
 * listens there until it starts it, so this instance starts with its primary unreachable), with
 * the outage fallback on and a fast probe.
 */
export const E2E_DB_APP_PORT = E2E_PORT + 2;
export const E2E_DB_DATA_DIR = path.join(E2E_RUN_DIR, `app-${E2E_DB_APP_PORT}`);
export const E2E_DB_PROXY_PORT = E2E_PORT + 8;
/** The primary database of that instance, created by the test on the run's PostgreSQL server. */
export const E2E_DB_NAME = `${E2E_DB_PREFIX}${E2E_DB_APP_PORT}`;
/** The metrics token that instance is started with (production: /api/metrics needs it). */
export const E2E_METRICS_TOKEN = 'e2e-metrics-token-0123456789abcdef';

/**
 * A fourth instance on a real PostgreSQL database of its own (no proxy, no fallback), started by
 * tests/e2e/postgres-app.ts: the dashboard's tests run against it as well as the embedded default.
 * The wrapper writes the database's URL to `<data dir>/database-url` for the tests.
 */
export const E2E_PG_APP_PORT = E2E_PORT + 3;
export const E2E_PG_DATA_DIR = path.join(E2E_RUN_DIR, `app-${E2E_PG_APP_PORT}`);
export const E2E_PG_DB_NAME = `${E2E_DB_PREFIX}${E2E_PG_APP_PORT}`;

/**
 * A fifth instance configured as on Supabase (tests/e2e/supabase-app.ts): the PostgREST double on a
 * migrated PostgreSQL database of its own behind a GoTrue-protocol server, one base URL for both.
 * Staff sign in with Supabase Auth; the admin token below (set explicitly, as a Supabase deployment
 * must) lets an administrator manage them. The wrapper writes the project's URL and keys to
 * `<data dir>/supabase.json` for the tests.
 */
export const E2E_SB_APP_PORT = E2E_PORT + 4;
export const E2E_SB_DATA_DIR = path.join(E2E_RUN_DIR, `app-${E2E_SB_APP_PORT}`);
export const E2E_SB_DB_NAME = `${E2E_DB_PREFIX}${E2E_SB_APP_PORT}`;
export const E2E_SB_ADMIN_TOKEN = 'e2e-supabase-admin-token-0123456789';
