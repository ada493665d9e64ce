/**
 * Rate limiting on the cache port, identical on every adapter.
 *
 * Fixed window, anchored at the first hit: one counter per key, created with the window as its TTL
 * and incremented atomically (`increment`), so a check is one round trip and one small key, and the
 * same two operations exist on memory, Redis and Upstash. A sliding-window log would store every hit;
 * a sliding-window counter reads two keys and only approximates. The cost of the fixed window — up
 * to twice the limit across a window boundary — is acceptable for abuse protection of the widget and
 * crawler politeness.
 *
 * A hit may cost more than 1 (`Charge.cost`: the widget counts messages, up to 100 a request, not
 * requests). A refused charge is given back (a second round trip, on refusals only), so counters hold
 * what was accepted: a client retrying a refused batch does not use up its other limits meanwhile.
 *
 * While Redis is unreachable the fallback counts in memory: limits then hold per process (neither
 * fail-open nor fail-closed; see lib/cache/fallback.ts).
 *
 * Results are values only; what a refusal means to a client (429, `Retry-After`, `RateLimit-*`) is
 * decided on the HTTP side, lib/http.ts `enforceRateLimits`.
 */
import type { RateLimitKey } from './keys';

/** A rule and what one hit costs against it. */
export interface Charge extends RateLimitKey {
  /** @default 1 */
  readonly cost?: number;
  /**
   * A budget rather than a limit: running out of it refuses nothing (`chargeRateLimits` ignores it),
   * the caller reads `allowed` and does less. @default false
   */
  readonly soft?: boolean;
}
import type { CacheStore, Counter } from './types';

export interface RateLimitResult {
  allowed: boolean;
  /** Hits left in the current window. */
  remaining: number;
  /** The counter after this hit (may exceed `limit`). */
  used: number;
  /** When the window ends (epoch ms). */
  resetAt: number;
  limit: number;
}

function toResult(rule: RateLimitKey, counter: Counter, now: number): RateLimitResult {
  return {
    allowed: counter.value <= rule.limit,
    remaining: Math.max(0, rule.limit - counter.value),
    used: counter.value,
    resetAt: now + counter.ttlMs,
    limit: rule.limit,
  };
}

/** Count one hit (its cost) against each rule, all in one round trip. */
export async function checkRateLimits(
  cache: CacheStore,
  rules: readonly Charge[],
  now: () => number = Date.now,
): Promise<RateLimitResult[]> {
  const counters = await cache.batch(rules.map((rule) => ({ op: 'increment' as const, key: rule.key, ttlMs: rule.ttlMs, by: rule.cost ?? 1 })));
  const at = now();
  return counters.map((counter, i) => toResult(rules[i]!, counter, at));
}

/** Count one hit against `rule`. */
export async function checkRateLimit(cache: CacheStore, rule: RateLimitKey, now?: () => number): Promise<RateLimitResult> {
  const [result] = await checkRateLimits(cache, [rule], now);
  return result!;
}

/** What charging several rules came to. */
export interface RateLimitCharge {
  /** One per rule, in the rules' order (a soft rule's `allowed` says whether its budget covered the charge). */
  results: RateLimitResult[];
  /** When a (hard) rule refused: the refusal that lasts longest; every charge was given back. */
  refused: RateLimitResult | null;
}

/**
 * Charge every rule and, if a (hard) rule refuses, give every charge back and report the refusal
 * that lasts longest.
 */
export async function chargeRateLimits(
  cache: CacheStore,
  rules: readonly Charge[],
  now: () => number = Date.now,
): Promise<RateLimitCharge> {
  const results = await checkRateLimits(cache, rules, now);
  const refusals = results.filter((r, i) => !r.allowed && !rules[i]!.soft);
  if (refusals.length === 0) return { results, refused: null };
  // Given back with the counter's own TTL kept (increment never extends it).
  await cache.batch(rules.map((rule) => ({ op: 'increment' as const, key: rule.key, ttlMs: rule.ttlMs, by: -(rule.cost ?? 1) })));
  return { results, refused: refusals.reduce((a, b) => (b.resetAt > a.resetAt ? b : a)) };
}
