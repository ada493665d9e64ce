/**
 * Authorisation of the cron routes: `Authorization: Bearer <CRON_SECRET>`, which Vercel Cron sends
 * when the project has a CRON_SECRET environment variable.
 */
import { secretsEqual } from '@/lib/auth/secrets';
import type { Config } from '@/lib/config';
import { HttpError } from '@/lib/http';

/** True when `headers` carry `Authorization: Bearer <CRON_SECRET>` (never without a CRON_SECRET). */
export function presentsCronSecret(headers: Headers, config: Pick<Config, 'cronSecret'>): boolean {
  return config.cronSecret !== undefined && secretsEqual(headers.get('authorization') ?? '', `Bearer ${config.cronSecret}`);
}

/**
 * Throws 401 (wrong or missing secret) or 503 (no CRON_SECRET in production) as an HttpError.
 * Without CRON_SECRET the routes refuse to run at all in production (fail closed: anyone could
 * otherwise trigger them), and are open outside production (`next dev`, tests), where a stray call
 * can do no more than run a cleanup whose slot has not run yet.
 */
export function authorizeCronRequest(headers: Headers, config: Pick<Config, 'cronSecret' | 'isProduction'>): void {
  if (config.cronSecret === undefined) {
    if (!config.isProduction) return;
    throw new HttpError(503, 'cron_disabled', '[omniops] [cron] CRON_SECRET is not set: cron routes are disabled in production');
  }
  if (!presentsCronSecret(headers, config)) {
    throw new HttpError(401, 'unauthorized', '[omniops] [cron] missing or wrong Authorization: Bearer <CRON_SECRET>', {
      'www-authenticate': 'Bearer',
    });
  }
}
