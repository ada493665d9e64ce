import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@/lib/config';
import { primaryKind } from '@/lib/db/resolve';

describe('loadConfig', () => {
  it('needs nothing: the embedded default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      supabase: undefined,
      databaseUrl: undefined,
      dataDir: path.resolve('.data'),
      dbFallback: 'embedded',
      port: 3000,
      requireServices: false,
    });
    expect(primaryKind(config)).toBe('pglite');
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', REDIS_URL: '  ', PORT: '' })).toMatchObject({
      databaseUrl: undefined,
      redisUrl: undefined,
      port: 3000,
    });
  });

  it('chooses Supabase, then DATABASE_URL, then PGlite', () => {
    const supabase = {
      NEXT_PUBLIC_SUPABASE_URL: 'https://abc.supabase.co',
      SUPABASE_SERVICE_ROLE_KEY: 'service-key',
    };
    const pg = { DATABASE_URL: 'postgresql://u:p@db.example:5432/app' };
    expect(primaryKind(loadConfig({ ...supabase, ...pg }))).toBe('supabase');
    expect(primaryKind(loadConfig(pg))).toBe('postgres');
  });

  describe("Supabase's key names", () => {
    const url = { NEXT_PUBLIC_SUPABASE_URL: 'https://abc.supabase.co' };
    const publishable = 'sb_publishable_AbCdEfGhIjKlMnOpQrStUv_12345678';
    const secret = 'sb_secret_ZyXwVuTsRqPoNmLkJiHgFe_87654321';

    it('reads the publishable and secret keys (sb_publishable_…, sb_secret_…)', () => {
      const config = loadConfig({ ...url, NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: publishable, SUPABASE_SECRET_KEY: secret });
      expect(config.supabase).toEqual({ url: url.NEXT_PUBLIC_SUPABASE_URL, anonKey: publishable, serviceRoleKey: secret });
      expect(primaryKind(config)).toBe('supabase');
    });

    it('keeps the legacy anon / service-role names as aliases', () => {
      expect(loadConfig({ ...url, NEXT_PUBLIC_SUPABASE_ANON_KEY: 'anon.jwt.x', SUPABASE_SERVICE_ROLE_KEY: 'service.jwt.y' }).supabase).toEqual({
        url: url.NEXT_PUBLIC_SUPABASE_URL,
        anonKey: 'anon.jwt.x',
        serviceRoleKey: 'service.jwt.y',
      });
      // Mixed, and both names of one key set to the same value, are fine.
      expect(
        loadConfig({ ...url, NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: publishable, NEXT_PUBLIC_SUPABASE_ANON_KEY: publishable, SUPABASE_SERVICE_ROLE_KEY: secret })
          .supabase,
      ).toEqual({ url: url.NEXT_PUBLIC_SUPABASE_URL, anonKey: publishable, serviceRoleKey: secret });
    });

    it.each([
      [{ ...url, SUPABASE_SECRET_KEY: secret, SUPABASE_SERVICE_ROLE_KEY: 'service.jwt.y' }, 'SUPABASE_SECRET_KEY: differs from SUPABASE_SERVICE_ROLE_KEY, its legacy alias'],
      [
        { ...url, SUPABASE_SECRET_KEY: secret, NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: publishable, NEXT_PUBLIC_SUPABASE_ANON_KEY: 'anon.jwt.x' },
        'NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: differs from NEXT_PUBLIC_SUPABASE_ANON_KEY, its legacy alias',
      ],
      [{ ...url, SUPABASE_SECRET_KEY: secret, NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: secret }, 'NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: is a secret key'],
      [{ ...url, SUPABASE_SECRET_KEY: secret, NEXT_PUBLIC_SUPABASE_ANON_KEY: secret }, 'NEXT_PUBLIC_SUPABASE_ANON_KEY: is a secret key'],
      [{ ...url, SUPABASE_SECRET_KEY: publishable }, 'SUPABASE_SECRET_KEY: is a publishable key'],
      [url, 'SUPABASE_SECRET_KEY: required when NEXT_PUBLIC_SUPABASE_URL is set'],
      [{ SUPABASE_SECRET_KEY: secret }, 'NEXT_PUBLIC_SUPABASE_URL: required when SUPABASE_SECRET_KEY is set'],
      [{ SUPABASE_SERVICE_ROLE_KEY: 'service.jwt.y' }, 'NEXT_PUBLIC_SUPABASE_URL: required when SUPABASE_SERVICE_ROLE_KEY is set'],
    ])('rejects %j naming the variable', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  });

  it('turns the embedded fallback off by default in production', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).dbFallback).toBe('off');
    expect(loadConfig({ NODE_ENV: 'production', DB_FALLBACK: 'embedded' }).dbFallback).toBe('embedded');
  });

  it('has cache defaults and reads the CACHE_* variables', () => {
    expect(loadConfig({}).cache).toEqual({
      timeoutMs: 150,
      failureThreshold: 3,
      probeIntervalMs: 30_000,
      memoryMaxEntries: 10_000,
      memoryMaxBytes: 64 * 1024 * 1024,
      keyPrefix: '',
    });
    expect(
      loadConfig({
        CACHE_TIMEOUT_MS: '80',
        CACHE_FAILURE_THRESHOLD: '5',
        CACHE_PROBE_INTERVAL_MS: '1000',
        CACHE_MEMORY_MAX_ENTRIES: '500',
        CACHE_MEMORY_MAX_BYTES: '1048576',
        CACHE_KEY_PREFIX: 'omniops:',
      }).cache,
    ).toEqual({ timeoutMs: 80, failureThreshold: 5, probeIntervalMs: 1000, memoryMaxEntries: 500, memoryMaxBytes: 1_048_576, keyPrefix: 'omniops:' });
  });

  it('runs the scheduled tasks in-process except on Vercel, unless CRON_MODE says otherwise', () => {
    expect(loadConfig({}).cronMode).toBe('internal');
    expect(loadConfig({ VERCEL: '1' }).cronMode).toBe('external');
    expect(loadConfig({ VERCEL: '1', CRON_MODE: 'internal' }).cronMode).toBe('internal');
    expect(loadConfig({ CRON_MODE: 'external' }).cronMode).toBe('external');
  });

  it('keeps crawl jobs 90 days unless SCRAPE_JOB_RETENTION_DAYS says otherwise', () => {
    expect(loadConfig({}).scrapeJobRetentionDays).toBe(90);
    expect(loadConfig({ SCRAPE_JOB_RETENTION_DAYS: '30' }).scrapeJobRetentionDays).toBe(30);
  });

  it('treats CI or REQUIRE_SERVICES as "services are mandatory"', () => {
    expect(loadConfig({ CI: 'true' }).requireServices).toBe(true);
    expect(loadConfig({ REQUIRE_SERVICES: '1' }).requireServices).toBe(true);
    expect(loadConfig({ CI: 'false' }).requireServices).toBe(false);
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL: must be a postgres:// or postgresql:// URL'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL: must be a redis:// or rediss:// URL'],
    [{ PORT: 'eighty' }, 'PORT:'],
    [{ CACHE_TIMEOUT_MS: '0' }, 'CACHE_TIMEOUT_MS:'],
    [{ CACHE_MEMORY_MAX_BYTES: '10' }, 'CACHE_MEMORY_MAX_BYTES:'],
    [{ PORT: '70000' }, 'PORT:'],
    [{ DB_FALLBACK: 'sqlite' }, 'DB_FALLBACK:'],
    [{ CRON_SECRET: 'short' }, 'CRON_SECRET: must be at least 16 characters'],
    [{ CRON_MODE: 'vercel' }, 'CRON_MODE:'],
    [{ SCRAPE_JOB_RETENTION_DAYS: '0' }, 'SCRAPE_JOB_RETENTION_DAYS:'],
    [{ UPSTASH_REDIS_REST_TOKEN: 't' }, 'UPSTASH_REDIS_REST_URL: required when UPSTASH_REDIS_REST_TOKEN is set'],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
