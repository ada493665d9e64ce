import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WIDGET_CLIENT_TIMEOUT_MS } from '@/lib/chat-widget/transport';
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

  it('takes the client address from the socket unless TRUST_PROXY_HOPS or Vercel says otherwise', () => {
    expect(loadConfig({}).clientAddress).toEqual({ trustProxyHops: 0, vercel: false });
    expect(loadConfig({ TRUST_PROXY_HOPS: '2' }).clientAddress).toEqual({ trustProxyHops: 2, vercel: false });
    expect(loadConfig({ VERCEL: '1' }).clientAddress).toEqual({ trustProxyHops: 0, vercel: true });
  });

  it('lets one address spend 5 % of a monthly allowance a day unless WIDGET_ADDRESS_DAILY_SHARE says otherwise', () => {
    expect(loadConfig({}).widgetAddressDailyShare).toBe(0.05);
    expect(loadConfig({ WIDGET_ADDRESS_DAILY_SHARE: '12.5' }).widgetAddressDailyShare).toBe(0.125);
  });

  it('keeps crawl jobs 90 days unless SCRAPE_JOB_RETENTION_DAYS says otherwise', () => {
    expect(loadConfig({}).scrapeJobRetentionDays).toBe(90);
    expect(loadConfig({ SCRAPE_JOB_RETENTION_DAYS: '30' }).scrapeJobRetentionDays).toBe(30);
  });

  it('bounds calls to the primary, decides failover by probes, and answers the widget before its timeout', () => {
    expect(loadConfig({})).toMatchObject({
      dbStatementTimeoutMs: 30_000,
      dbProbeTimeoutMs: 1000,
      dbSlowCallMs: 1000,
      dbFailoverProbes: 2,
      widgetDeadlineMs: 8000,
    });
    expect(
      loadConfig({
        DB_STATEMENT_TIMEOUT_MS: '5000',
        DB_PROBE_TIMEOUT_MS: '500',
        DB_SLOW_CALL_MS: '2000',
        DB_FAILOVER_PROBES: '3',
        WIDGET_DEADLINE_MS: '6000',
      }),
    ).toMatchObject({ dbStatementTimeoutMs: 5000, dbProbeTimeoutMs: 500, dbSlowCallMs: 2000, dbFailoverProbes: 3, widgetDeadlineMs: 6000 });
    // An answer after the widget gave up is never read: the deadline cannot reach its timeout.
    expect(loadConfig({}).widgetDeadlineMs).toBeLessThan(WIDGET_CLIENT_TIMEOUT_MS);
    expect(() => loadConfig({ WIDGET_DEADLINE_MS: String(WIDGET_CLIENT_TIMEOUT_MS) })).toThrow('WIDGET_DEADLINE_MS:');
  });

  it('reads the transfer files\' signing and encryption keys (the latter as hex or base64)', () => {
    expect(loadConfig({}).transferKeys).toEqual({});
    const raw = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const signingKey = 'a signing key of at least 32 characters';
    expect(loadConfig({ EXPORT_SIGNING_KEY: signingKey, EXPORT_ENCRYPTION_KEY: raw.toString('hex') }).transferKeys).toEqual({
      signingKey: Buffer.from(signingKey),
      encryptionKey: raw,
    });
    expect(loadConfig({ EXPORT_ENCRYPTION_KEY: raw.toString('base64') }).transferKeys.encryptionKey).toEqual(raw);
    expect(loadConfig({ EXPORT_ENCRYPTION_KEY: raw.toString('base64url') }).transferKeys.encryptionKey).toEqual(raw);
  });

  it('crawls public hosts on ports 80 and 443 only, unless CRAWL_ALLOW_PRIVATE_HOSTS and CRAWL_ALLOWED_PORTS say otherwise', () => {
    expect(loadConfig({}).crawl).toEqual({ allowPrivateHosts: [], allowedPorts: [80, 443] });
    expect(loadConfig({ CRAWL_ALLOW_PRIVATE_HOSTS: '', CRAWL_ALLOWED_PORTS: '' }).crawl).toEqual({ allowPrivateHosts: [], allowedPorts: [80, 443] });
    expect(loadConfig({ CRAWL_ALLOW_PRIVATE_HOSTS: '127.0.0.1, localhost,,10.0.0.0/8,[::1]', CRAWL_ALLOWED_PORTS: '80,443, 8080' }).crawl).toEqual({
      allowPrivateHosts: ['127.0.0.1', 'localhost', '10.0.0.0/8', '[::1]'],
      allowedPorts: [80, 443, 8080],
    });
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
    [{ DB_STATEMENT_TIMEOUT_MS: '10' }, 'DB_STATEMENT_TIMEOUT_MS:'],
    [{ DB_PROBE_TIMEOUT_MS: 'soon' }, 'DB_PROBE_TIMEOUT_MS:'],
    [{ DB_SLOW_CALL_MS: '0' }, 'DB_SLOW_CALL_MS:'],
    [{ DB_FAILOVER_PROBES: '0' }, 'DB_FAILOVER_PROBES:'],
    [{ EXPORT_SIGNING_KEY: 'too short' }, 'EXPORT_SIGNING_KEY: must be at least 32 characters'],
    [{ EXPORT_ENCRYPTION_KEY: Buffer.alloc(16).toString('base64') }, 'EXPORT_ENCRYPTION_KEY: must be 32 bytes'],
    [{ EXPORT_ENCRYPTION_KEY: 'not a key!' }, 'EXPORT_ENCRYPTION_KEY: must be 32 bytes'],
    [{ CRON_SECRET: 'short' }, 'CRON_SECRET: must be at least 16 characters'],
    [{ CRON_MODE: 'vercel' }, 'CRON_MODE:'],
    [{ SCRAPE_JOB_RETENTION_DAYS: '0' }, 'SCRAPE_JOB_RETENTION_DAYS:'],
    [{ TRUST_PROXY_HOPS: '-1' }, 'TRUST_PROXY_HOPS:'],
    [{ TRUST_PROXY_HOPS: '1.5' }, 'TRUST_PROXY_HOPS:'],
    [{ WIDGET_ADDRESS_DAILY_SHARE: '0' }, 'WIDGET_ADDRESS_DAILY_SHARE:'],
    [{ WIDGET_ADDRESS_DAILY_SHARE: '101' }, 'WIDGET_ADDRESS_DAILY_SHARE:'],
    [{ CRAWL_ALLOW_PRIVATE_HOSTS: 'localhost, user@host' }, 'CRAWL_ALLOW_PRIVATE_HOSTS.1: each entry a host name'],
    [{ CRAWL_ALLOWED_PORTS: '80,http' }, 'CRAWL_ALLOWED_PORTS.1:'],
    [{ CRAWL_ALLOWED_PORTS: '0' }, 'CRAWL_ALLOWED_PORTS.0:'],
    [{ UPSTASH_REDIS_REST_TOKEN: 't' }, 'UPSTASH_REDIS_REST_URL: required when UPSTASH_REDIS_REST_TOKEN is set'],
  ])('rejects %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
