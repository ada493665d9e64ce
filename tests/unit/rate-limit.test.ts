import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@/lib/cache/memory';
import { checkRateLimit, enforceRateLimits, tooManyRequests } from '@/lib/cache/rate-limit';
import { errorResponse, type HttpError } from '@/lib/http';

const now = () => 1_000_000;

describe('rate limiter', () => {
  it('allows `limit` hits per window and reports what is left', async () => {
    const cache = new MemoryStore();
    const rule = { key: 'rate:test', ttlMs: 60_000, limit: 3 };
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await checkRateLimit(cache, rule, now));
    expect(results.map(({ allowed, remaining }) => ({ allowed, remaining }))).toEqual([
      { allowed: true, remaining: 2 },
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
      { allowed: false, remaining: 0 },
    ]);
    expect(results[3]!.resetAt).toBeGreaterThan(now() + 59_000);
    expect(results[3]!.resetAt).toBeLessThanOrEqual(now() + 60_000);
  });

  it('turns a refusal into HTTP 429 with Retry-After in whole seconds', async () => {
    const response = errorResponse(tooManyRequests({ allowed: false, remaining: 0, resetAt: now() + 12_300, limit: 20 }, now()));
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('13');
    expect(response.headers.get('ratelimit-limit')).toBe('20');
    expect(response.headers.get('ratelimit-remaining')).toBe('0');
    expect(await response.json()).toEqual({ error: { code: 'rate_limited', message: 'rate limit exceeded: retry in 13 s' } });
    // Never "retry in 0 s".
    expect(tooManyRequests({ allowed: false, remaining: 0, resetAt: now() + 10, limit: 1 }, now()).headers['Retry-After']).toBe('1');
  });

  it('checks several rules in one batch and answers with the longest refusal', async () => {
    const cache = new MemoryStore();
    const session = { key: 'rate:s', ttlMs: 10_000, limit: 1 };
    const ip = { key: 'rate:ip', ttlMs: 60_000, limit: 1 };
    await expect(enforceRateLimits(cache, [session, ip], now)).resolves.toBeUndefined();
    const refused = await enforceRateLimits(cache, [session, ip], now).catch((error: unknown) => error as HttpError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(refused?.headers['Retry-After'])).toBeGreaterThan(50);
  });
});
