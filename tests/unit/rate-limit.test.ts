import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@/lib/cache/memory';
import { checkRateLimit } from '@/lib/cache/rate-limit';
import { enforceRateLimits, errorResponse, rateLimitHeaders, tooManyRequests, type HttpError } from '@/lib/http';

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
    const response = errorResponse(tooManyRequests({ allowed: false, remaining: 0, used: 21, resetAt: now() + 12_300, limit: 20 }, now()));
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('13');
    expect(response.headers.get('ratelimit-limit')).toBe('20');
    expect(response.headers.get('ratelimit-remaining')).toBe('0');
    expect(response.headers.get('ratelimit-reset')).toBe('13');
    expect(rateLimitHeaders({ allowed: true, remaining: 4, used: 1, resetAt: now() - 5_000, limit: 5 }, now())).toEqual({
      'RateLimit-Limit': '5',
      'RateLimit-Remaining': '4',
      'RateLimit-Reset': '0', // a window already over resets now, never in the past
    });
    expect(await response.json()).toEqual({ error: { code: 'rate_limited', message: 'rate limit exceeded: retry in 13 s' } });
    // Never "retry in 0 s".
    expect(tooManyRequests({ allowed: false, remaining: 0, used: 2, resetAt: now() + 10, limit: 1 }, now()).headers['Retry-After']).toBe('1');
  });

  it('checks several rules in one batch and answers with the longest refusal', async () => {
    const cache = new MemoryStore();
    const session = { key: 'rate:s', ttlMs: 10_000, limit: 1 };
    const ip = { key: 'rate:ip', ttlMs: 60_000, limit: 1 };
    await expect(enforceRateLimits(cache, [session, ip], now)).resolves.toHaveLength(2);
    const refused = await enforceRateLimits(cache, [session, ip], now).catch((error: unknown) => error as HttpError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((refused as HttpError).headers['Retry-After']).toMatch(/^\d+$/);
    expect(Number((refused as HttpError).headers['Retry-After'])).toBeGreaterThan(50);
    // The longest refusal wins whichever rule comes first.
    const again = await enforceRateLimits(cache, [ip, session], now).catch((error: unknown) => error as HttpError);
    expect(Number((again as HttpError).headers['Retry-After'])).toBeGreaterThan(50);
  });

  it('charges a hit’s cost (messages, not requests) and gives a refused charge back', async () => {
    const cache = new MemoryStore();
    const messages = { key: 'rate:m', ttlMs: 60_000, limit: 50 };
    const other = { key: 'rate:o', ttlMs: 60_000, limit: 1000 };
    await enforceRateLimits(cache, [{ ...messages, cost: 30 }, { ...other, cost: 30 }], now);
    // 30 + 30 > 50: refused, and neither counter keeps the 30.
    await expect(enforceRateLimits(cache, [{ ...messages, cost: 30 }, { ...other, cost: 30 }], now)).rejects.toMatchObject({ status: 429 });
    expect(await cache.get('rate:m')).toBe('30');
    expect(await cache.get('rate:o')).toBe('30');
    // What is left still fits exactly.
    await expect(enforceRateLimits(cache, [{ ...messages, cost: 20 }], now)).resolves.toMatchObject([{ allowed: true, remaining: 0 }]);
  });

  it('reports a spent soft budget without refusing', async () => {
    const cache = new MemoryStore();
    const budget = { key: 'rate:b', ttlMs: 60_000, limit: 5, soft: true };
    const [first] = await enforceRateLimits(cache, [{ ...budget, cost: 5 }], now);
    const [second] = await enforceRateLimits(cache, [{ ...budget, cost: 1 }], now);
    expect([first!.allowed, second!.allowed]).toEqual([true, false]);
  });
});
