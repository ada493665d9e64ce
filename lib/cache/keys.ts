/**
 * Every cache key the app uses, built in one place with its TTL beside it (the list: docs/cache.md).
 * TTLs live here and nowhere else: callers pass `key.ttlMs` on.
 *
 * Each variable part is percent-encoded, so a ':' inside an id or an IPv6 address cannot make two
 * different keys collide (`rate:a:b` from domain "a:b" vs …); ordinary domains, ids and hashes are
 * unchanged by it.
 */
export interface CacheKey {
  readonly key: string;
  readonly ttlMs: number;
}

/** A counter key for the rate limiter: its TTL is the window, with the number of hits it allows. */
export interface RateLimitKey extends CacheKey {
  readonly limit: number;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const join = (...parts: string[]) => parts.map(encodeURIComponent).join(':');

/** Active crawl job state (1 h). */
export const crawlJobKey = (jobId: string): CacheKey => ({ key: `crawl:job:${join(jobId)}`, ttlMs: HOUR });

/** A crawl job's page results, a list (24 h; the permanent copy is scrape_job_results). */
export const crawlResultsKey = (jobId: string): CacheKey => ({ key: `crawl:results:${join(jobId)}`, ttlMs: 24 * HOUR });

/** Crawler politeness: requests to one domain per minute (60 s window); at most one a second on average. */
export const domainRateKey = (domain: string): RateLimitKey => ({
  key: `rate:${join(domain.toLowerCase())}`,
  ttlMs: MINUTE,
  limit: 60,
});

/** The crawler's adaptive delay for a domain, in ms, after it answered slowly or with 429 (5 min). */
export const domainDelayKey = (domain: string): CacheKey => ({
  key: `rate:delay:${join(domain.toLowerCase())}`,
  ttlMs: 5 * MINUTE,
});

/**
 * Content deduplication: a page-text hash → the URLs that had it, first one first (24 h).
 * Per customer: two customers' identical pages are each their own.
 */
export const contentHashKey = (customerId: string, hash: string): CacheKey => ({
  key: `content:hash:${join(customerId, hash)}`,
  ttlMs: 24 * HOUR,
});

/**
 * The part of a client address a per-address limit keys on: an IPv4 address whole, an IPv6 address
 * by its /64 — one subscriber's network, in which anyone can pick any of 2⁶⁴ addresses.
 */
export function addressBucket(address: string): string {
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * Widget limits. Sending counts MESSAGES (a request carries up to 100): 100 a minute per session —
 * one full request; far more than anyone types — and 300 a minute per address, for offices and mobile carriers that put
 * many visitors behind one address. Reading (the 2.5 s poll, session start) counts requests: 60 a
 * minute per session — two open tabs — and 1,200 per address. Session ids are chosen by clients,
 * so the per-session limit only tames one misbehaving widget; the address limits, and the daily
 * share below, are what an attacker cannot shed.
 */
const WIDGET_LIMITS = {
  send: { session: 100, ip: 300 },
  read: { session: 60, ip: 1200 },
} as const;

export type WidgetAction = keyof typeof WIDGET_LIMITS;

export const widgetSessionRateKey = (action: WidgetAction, customerId: string, sessionId: string): RateLimitKey => ({
  key: `rate:widget:${action}:session:${join(customerId, sessionId)}`,
  ttlMs: MINUTE,
  limit: WIDGET_LIMITS[action].session,
});

export const widgetIpRateKey = (action: WidgetAction, ip: string): RateLimitKey => ({
  key: `rate:widget:${action}:ip:${join(addressBucket(ip))}`,
  ttlMs: MINUTE,
  limit: WIDGET_LIMITS[action].ip,
});

/**
 * Messages one address may send to one customer in a day: `limit` is the share of the customer's
 * monthly allowance (WIDGET_ADDRESS_DAILY_SHARE, lib/widget/limits.ts), so no single address can
 * spend a month's allowance and lock the widget for everyone else.
 */
export const widgetAddressDailyKey = (customerId: string, ip: string, limit: number): RateLimitKey => ({
  key: `rate:widget:daily:${join(customerId, addressBucket(ip))}`,
  ttlMs: 24 * HOUR,
  limit,
});

/**
 * Messages answered inline (search and model calls inside the send request) per customer and
 * minute; past it new messages wait for the queue worker, which works at its own pace. Bounds what
 * a flood of sends costs in search and model calls, on unlimited plans too.
 */
export const widgetInlineBudgetKey = (customerId: string): RateLimitKey => ({
  key: `rate:widget:inline:${join(customerId)}`,
  ttlMs: MINUTE,
  limit: 600,
});

/** Admin sign-in attempts per client IP: 10 a minute stops guessing, not a person who mistypes. */
export const loginRateKey = (ip: string): RateLimitKey => ({
  key: `rate:login:${join(addressBucket(ip))}`,
  ttlMs: MINUTE,
  limit: 10,
});
