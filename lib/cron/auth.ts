/**
 * Authorisation of the cron routes: `Authorization: Bearer <CRON_SECRET>`, which Vercel Cron sends
 * when the project has a CRON_SECRET environment variable.
 */
import crypto from 'node:crypto';
import type { Config } from '@/lib/config';

export type CronAuthorization = { ok: true } | { ok: false; status: 401 | 503; error: string };

const digest = (value: string) => crypto.createHash('sha256').update(value).digest();

/**
 * Without CRON_SECRET the routes refuse to run at all in production (fail closed: anyone could
 * otherwise trigger them), and are open outside production (`next dev`, tests), where a stray call
 * can do no more than run a cleanup whose slot has not run yet.
 */
export function authorizeCronRequest(
  headers: Headers,
  config: Pick<Config, 'cronSecret' | 'isProduction'>,
): CronAuthorization {
  if (config.cronSecret === undefined) {
    return config.isProduction
      ? { ok: false, status: 503, error: '[omniops] [cron] CRON_SECRET is not set: cron routes are disabled in production' }
      : { ok: true };
  }
  const given = headers.get('authorization') ?? '';
  // Hashing first gives both sides the same length, so the comparison's time says nothing about
  // the secret, not even its length.
  const matches = crypto.timingSafeEqual(digest(given), digest(`Bearer ${config.cronSecret}`));
  return matches ? { ok: true } : { ok: false, status: 401, error: '[omniops] [cron] missing or wrong Authorization: Bearer <CRON_SECRET>' };
}
