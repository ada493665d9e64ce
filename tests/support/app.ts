/**
 * Run the app's route handlers inside a test process on a configuration of the test's choosing.
 *
 * Route handlers read the process-wide configuration (`getConfig()`) and use the process-wide
 * database, cache and metrics registry, each kept on globalThis (see lib/config.ts,
 * lib/db/resolve.ts, lib/cache/resolve.ts, lib/metrics.ts, lib/auth/admin-session.ts). `useAppEnv`
 * installs a configuration parsed from `env` and drops those singletons, closing the old database
 * and cache, so each scenario starts like a freshly started server.
 */
import { SESSION_COOKIE, issueSession } from '@/lib/auth/admin-session';
import { loadConfig, type Config, type Env } from '@/lib/config';

type AppGlobals = {
  __omniopsConfig?: Config;
  __omniopsDb?: Promise<{ close(): Promise<void> }>;
  __omniopsCache?: { close(): Promise<void> };
  __omniopsMetrics?: unknown;
  __omniopsAdminToken?: unknown;
};
const globals = globalThis as typeof globalThis & AppGlobals;

/** Close and forget the process-wide database, cache and metrics. */
export async function resetApp(): Promise<void> {
  const db = globals.__omniopsDb;
  const cache = globals.__omniopsCache;
  globals.__omniopsDb = undefined;
  globals.__omniopsCache = undefined;
  globals.__omniopsMetrics = undefined;
  globals.__omniopsAdminToken = undefined;
  globals.__omniopsConfig = undefined;
  await (await db?.catch(() => undefined))?.close().catch(() => {});
  await cache?.close().catch(() => {});
}

/** Start "a server" on `env`: the handlers called next see this configuration and fresh singletons. */
export async function useAppEnv(env: Env): Promise<Config> {
  await resetApp();
  globals.__omniopsConfig = loadConfig(env as Record<string, string | undefined>);
  return globals.__omniopsConfig;
}

/** The `cookie` header of a signed-in administrator, for a configuration with `OMNIOPS_ADMIN_TOKEN = adminToken`. */
export function adminCookie(adminToken: string): string {
  return `${SESSION_COOKIE}=${issueSession(adminToken)}`;
}
