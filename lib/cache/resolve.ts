/**
 * Picks the ephemeral-tier backend once per process, the way lib/db/resolve.ts picks the permanent
 * one: Upstash when its REST URL and token are set, else `REDIS_URL`, else memory only. The remote is
 * always wrapped in the fallback, so callers never handle a Redis outage.
 */
import { getConfig, type Config } from '@/lib/config';
import { FallbackCache, type FallbackOptions } from './fallback';
import { MemoryStore } from './memory';
import { createRedisStore } from './redis';
import type { CacheKind } from './types';
import { createUpstashStore } from './upstash';

export function cacheKind(config: Config): CacheKind {
  if (config.upstash) return 'upstash';
  if (config.redisUrl) return 'redis';
  return 'memory';
}

/** A new cache for `config`; the caller owns it and must `close()` it. */
export function openCache(config: Config, overrides: Pick<FallbackOptions, 'now' | 'logger'> = {}): FallbackCache {
  const { cache } = config;
  const memory = new MemoryStore({ maxEntries: cache.memoryMaxEntries, maxBytes: cache.memoryMaxBytes });
  const kind = cacheKind(config);
  const remote =
    kind === 'upstash'
      ? createUpstashStore(config.upstash!, { keyPrefix: cache.keyPrefix })
      : kind === 'redis'
        ? createRedisStore(config.redisUrl!, { keyPrefix: cache.keyPrefix })
        : undefined;
  return new FallbackCache(remote, memory, {
    timeoutMs: cache.timeoutMs,
    failureThreshold: cache.failureThreshold,
    probeIntervalMs: cache.probeIntervalMs,
    ...overrides,
  });
}

const globalForCache = globalThis as typeof globalThis & { __omniopsCache?: FallbackCache };

/**
 * The process-wide cache (a public name kept from the original design, documented in docs/cache.md). Never throws on a Redis outage and never fails a
 * call because of one: see lib/cache/fallback.ts for the policy.
 */
export function getRedisClientWithFallback(config: Config = getConfig()): FallbackCache {
  globalForCache.__omniopsCache ??= openCache(config);
  return globalForCache.__omniopsCache;
}
