/**
 * Every cache key the app uses, built in one place with its TTL beside it (seed 001's patterns).
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

/** Active crawl job state (seed 001: 1 h). */
export const crawlJobKey = (jobId: string): CacheKey => ({ key: `crawl:job:${join(jobId)}`, ttlMs: HOUR });

/** A crawl job's page results, a list (seed 001: 24 h; the permanent copy is scrape_job_results). */
export const crawlResultsKey = (jobId: string): CacheKey => ({ key: `crawl:results:${join(jobId)}`, ttlMs: 24 * HOUR });

/** Crawler politeness: requests to one domain per minute (seed 001: 60 s); at most one a second on average. */
export const domainRateKey = (domain: string): RateLimitKey => ({
  key: `rate:${join(domain.toLowerCase())}`,
  ttlMs: MINUTE,
  limit: 60,
});

/** The crawler's adaptive delay for a domain, in ms, after it answered slowly or with 429 (seed 001: 5 min). */
export const domainDelayKey = (domain: string): CacheKey => ({
  key: `rate:delay:${join(domain.toLowerCase())}`,
  ttlMs: 5 * MINUTE,
});

/**
 * Content deduplication: a page-text hash → the URLs that had it, first one first (seed 001: 24 h).
 * Per customer: two customers' identical pages are each their own.
 */
export const contentHashKey = (customerId: string, hash: string): CacheKey => ({
  key: `content:hash:${join(customerId, hash)}`,
  ttlMs: 24 * HOUR,
});

/**
 * Widget limits, per minute. Sending: 30 requests a session (each carries up to 100 messages, so
 * even a replay of a long offline queue fits) and 300 an IP. Reading (the 2.5 s poll, session
 * start): 60 a session — two open tabs — and 1,200 an IP, for offices and mobile carriers that put
 * many visitors behind one address.
 */
const WIDGET_LIMITS = {
  send: { session: 30, ip: 300 },
  read: { session: 60, ip: 1200 },
} as const;

export type WidgetAction = keyof typeof WIDGET_LIMITS;

export const widgetSessionRateKey = (action: WidgetAction, customerId: string, sessionId: string): RateLimitKey => ({
  key: `rate:widget:${action}:session:${join(customerId, sessionId)}`,
  ttlMs: MINUTE,
  limit: WIDGET_LIMITS[action].session,
});

export const widgetIpRateKey = (action: WidgetAction, ip: string): RateLimitKey => ({
  key: `rate:widget:${action}:ip:${join(ip)}`,
  ttlMs: MINUTE,
  limit: WIDGET_LIMITS[action].ip,
});

/** Admin sign-in attempts per client IP: 10 a minute stops guessing, not a person who mistypes. */
export const loginRateKey = (ip: string): RateLimitKey => ({
  key: `rate:login:${join(ip)}`,
  ttlMs: MINUTE,
  limit: 10,
});
