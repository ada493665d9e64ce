/**
 * The cron secret check (lib/cron/auth.ts) on its own: the cron routes use it, and the health route
 * shows its details to a caller presenting the secret — so with no CRON_SECRET configured, nothing
 * a caller sends (not even the text "Bearer undefined") may count as presenting it.
 */
import { describe, expect, it } from 'vitest';
import { authorizeCronRequest, presentsCronSecret } from '@/lib/cron/auth';

const auth = (value?: string) => new Headers(value === undefined ? {} : { authorization: value });

describe('presentsCronSecret', () => {
  it('is true only for Authorization: Bearer <CRON_SECRET>', () => {
    const config = { cronSecret: 's3cret-value' };
    expect(presentsCronSecret(auth('Bearer s3cret-value'), config)).toBe(true);
    expect(presentsCronSecret(auth('Bearer s3cret-valuE'), config)).toBe(false);
    expect(presentsCronSecret(auth('s3cret-value'), config)).toBe(false);
    expect(presentsCronSecret(auth(), config)).toBe(false);
  });

  it('is never true without a CRON_SECRET, whatever the header says', () => {
    for (const value of [undefined, '', 'Bearer undefined', 'Bearer ', 'Bearer']) {
      expect({ value, presents: presentsCronSecret(auth(value), { cronSecret: undefined }) }).toEqual({ value, presents: false });
    }
  });
});

describe('authorizeCronRequest', () => {
  it('refuses a missing or wrong secret with 401 and WWW-Authenticate, and lets the right one through', () => {
    const config = { cronSecret: 's3cret-value', isProduction: true };
    expect(() => authorizeCronRequest(auth('Bearer s3cret-value'), config)).not.toThrow();
    for (const value of [undefined, 'Bearer wrong']) {
      expect(() => authorizeCronRequest(auth(value), config)).toThrow(
        expect.objectContaining({ status: 401, code: 'unauthorized', headers: { 'www-authenticate': 'Bearer' } }),
      );
    }
  });

  it('without CRON_SECRET: 503 in production, open elsewhere', () => {
    expect(() => authorizeCronRequest(auth('Bearer undefined'), { cronSecret: undefined, isProduction: true })).toThrow(
      expect.objectContaining({ status: 503, code: 'cron_disabled' }),
    );
    expect(() => authorizeCronRequest(auth(), { cronSecret: undefined, isProduction: false })).not.toThrow();
  });
});
