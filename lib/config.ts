/**
 * The only module that reads `process.env`. Everything else receives a parsed, typed `Config`.
 *
 * A bad value fails start-up with a message naming the variable, e.g.
 * `[omniops] [config] DATABASE_URL: must be a postgres:// or postgresql:// URL`.
 */
import path from 'node:path';
import nextEnv from '@next/env';
import { z } from 'zod';

/** Empty strings (common in `.env` files) mean "unset". */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());

const flag = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const urlWithProtocols = (protocols: string[], label: string) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a ${label} URL`);

const postgresUrl = urlWithProtocols(['postgres:', 'postgresql:'], 'postgres:// or postgresql://');
const httpUrl = urlWithProtocols(['http:', 'https:'], 'http(s)://');
const redisUrl = urlWithProtocols(['redis:', 'rediss:'], 'redis:// or rediss://');
/** `a, b,c` → ['a', 'b', 'c'], each item parsed with `item`. */
const commaList = <T extends z.ZodType>(item: T) =>
  z.string().transform((value) => value.split(',').map((entry) => entry.trim()).filter(Boolean)).pipe(z.array(item) as z.ZodType<z.output<T>[], string[]>);
const secret = (min: number) => z.string().min(min, `must be at least ${min} characters`);

/** 32 bytes written as 64 hex digits or as base64. */
const key32 = z.string().transform((value, ctx) => {
  const text = value.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(text)
      ? Buffer.from(text, 'base64')
      : Buffer.alloc(0);
  if (bytes.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`)' });
    return z.NEVER;
  }
  return bytes;
});

const envSchema = z.object({
  NODE_ENV: optional(z.enum(['development', 'production', 'test'])),
  NEXT_PUBLIC_SUPABASE_URL: optional(httpUrl),
  // Supabase's current key names; the legacy anon / service-role names are aliases (supabaseKeys()).
  NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: optional(z.string()),
  SUPABASE_SECRET_KEY: optional(z.string()),
  NEXT_PUBLIC_SUPABASE_ANON_KEY: optional(z.string()),
  SUPABASE_SERVICE_ROLE_KEY: optional(z.string()),
  DATABASE_URL: optional(postgresUrl),
  OMNIOPS_DATA_DIR: optional(z.string()),
  DB_FALLBACK: optional(z.enum(['embedded', 'off'])),
  DB_CONNECT_TIMEOUT_MS: optional(z.coerce.number().int().min(100).max(120_000)),
  DB_PROBE_INTERVAL_MS: optional(z.coerce.number().int().min(50).max(3_600_000)),
  DB_STATEMENT_TIMEOUT_MS: optional(z.coerce.number().int().min(100).max(3_600_000)),
  DB_PROBE_TIMEOUT_MS: optional(z.coerce.number().int().min(50).max(60_000)),
  DB_SLOW_CALL_MS: optional(z.coerce.number().int().min(50).max(600_000)),
  DB_FAILOVER_PROBES: optional(z.coerce.number().int().min(1).max(20)),
  // Below the widget's own request timeout (WIDGET_CLIENT_TIMEOUT_MS, lib/chat-widget/transport.ts):
  // an answer after it is never read.
  WIDGET_DEADLINE_MS: optional(z.coerce.number().int().min(100).max(9500)),
  UPSTASH_REDIS_REST_URL: optional(httpUrl),
  UPSTASH_REDIS_REST_TOKEN: optional(z.string()),
  REDIS_URL: optional(redisUrl),
  CACHE_TIMEOUT_MS: optional(z.coerce.number().int().min(1).max(60_000)),
  CACHE_FAILURE_THRESHOLD: optional(z.coerce.number().int().min(1).max(1000)),
  CACHE_PROBE_INTERVAL_MS: optional(z.coerce.number().int().min(10).max(3_600_000)),
  CACHE_MEMORY_MAX_ENTRIES: optional(z.coerce.number().int().min(1).max(100_000_000)),
  CACHE_MEMORY_MAX_BYTES: optional(z.coerce.number().int().min(1024).max(Number.MAX_SAFE_INTEGER)),
  CACHE_KEY_PREFIX: optional(z.string().max(200)),
  CRON_SECRET: optional(secret(16)),
  CRON_MODE: optional(z.enum(['internal', 'external'])),
  SCRAPE_JOB_RETENTION_DAYS: optional(z.coerce.number().int().min(1).max(3650)),
  CRAWL_ALLOW_PRIVATE_HOSTS: optional(commaList(z.string().regex(/^[A-Za-z0-9.:_\[\]/-]{1,253}$/, 'each entry a host name, an IP address or a CIDR range'))),
  CRAWL_ALLOWED_PORTS: optional(commaList(z.coerce.number().int().min(1).max(65_535))),
  // Set to 1 by Vercel on its builds and functions.
  VERCEL: optional(flag),
  OMNIOPS_ADMIN_TOKEN: optional(secret(16)),
  OMNIOPS_METRICS_TOKEN: optional(secret(16)),
  EXPORT_SIGNING_KEY: optional(secret(32)),
  EXPORT_ENCRYPTION_KEY: optional(key32),
  OPENAI_API_KEY: optional(z.string()),
  OPENAI_BASE_URL: optional(httpUrl),
  OPENAI_MODEL: optional(z.string().max(200)),
  TRUST_PROXY_HOPS: optional(z.coerce.number().int().min(0).max(10)),
  WIDGET_ADDRESS_DAILY_SHARE: optional(z.coerce.number().gt(0).max(100)),
  WIDGET_CUSTOMER_CACHE_MS: optional(z.coerce.number().int().min(0).max(300_000)),
  PORT: optional(z.coerce.number().int().min(1).max(65_535)),
  HOST: optional(z.string()),
  CI: optional(flag),
  REQUIRE_SERVICES: optional(flag),
});

export type Env = z.input<typeof envSchema>;

/** Defaults of the ephemeral tier, shared with lib/cache so direct construction agrees with config. */
export const cacheDefaults = {
  timeoutMs: 150,
  failureThreshold: 3,
  probeIntervalMs: 30_000,
  memoryMaxEntries: 10_000,
  memoryMaxBytes: 64 * 1024 * 1024,
} as const;

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  isProduction: boolean;
  /**
   * The Supabase project. Either key format works: the publishable / secret keys (`sb_publishable_…`,
   * `sb_secret_…`, which Supabase's gateway maps to the `anon` / `service_role` roles) or the legacy
   * anon / service-role JWTs.
   */
  supabase:
    | {
        url: string;
        /** NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY, or its legacy alias NEXT_PUBLIC_SUPABASE_ANON_KEY: the `anon` role's key. */
        anonKey: string | undefined;
        /** SUPABASE_SECRET_KEY, or its legacy alias SUPABASE_SERVICE_ROLE_KEY: the `service_role` key (server only). */
        serviceRoleKey: string;
      }
    | undefined;
  databaseUrl: string | undefined;
  /** Absolute path of the embedded data directory (PGlite files, generated admin token). */
  dataDir: string;
  /** Whether a failing remote primary may fall back to embedded PGlite. @default 'embedded' outside production, 'off' in production */
  dbFallback: 'embedded' | 'off';
  /** Connect / request timeout for remote databases. @default 3000 */
  dbConnectTimeoutMs: number;
  /** While on the fallback, how often the primary is probed (and, while up, the customer copy refreshed). @default 30000 */
  dbProbeIntervalMs: number;
  /**
   * The primary cancels a statement running longer (PostgreSQL: a session setting, or `set local`
   * per call behind a transaction pooler; Supabase: the Data API request's timeout). @default 30000
   */
  dbStatementTimeoutMs: number;
  /** How long one health probe of the primary may take before it counts as failed. @default 1000 */
  dbProbeTimeoutMs: number;
  /** A call on the primary unanswered this long makes the process probe the primary. @default 1000 */
  dbSlowCallMs: number;
  /** Consecutive failed probes that switch the process to the outage fallback. @default 2 */
  dbFailoverProbes: number;
  /**
   * The server answers every widget request within this (503 + Retry-After if the work is not
   * done), before the widget's own timeout of 10 s gives up on it. @default 8000
   */
  widgetDeadlineMs: number;
  upstash: { url: string; token: string } | undefined;
  redisUrl: string | undefined;
  /** The ephemeral tier (lib/cache): fallback policy and the in-memory store's bounds. */
  cache: {
    /** Budget of one Redis call before it is served from memory. @default 150 */
    timeoutMs: number;
    /** Consecutive Redis failures before calls skip Redis. @default 3 */
    failureThreshold: number;
    /** While Redis is skipped, how often it is probed. @default 30000 */
    probeIntervalMs: number;
    /** @default 10000 */
    memoryMaxEntries: number;
    /** @default 67108864 (64 MiB) */
    memoryMaxBytes: number;
    /** Prepended to every Redis key, for a Redis shared with other apps. @default '' */
    keyPrefix: string;
  };
  cronSecret: string | undefined;
  /**
   * Who triggers the scheduled tasks: `internal` — this server process, on the schedules of
   * `lib/cron/tasks.ts`; `external` — something calls `/api/cron/<task>` (Vercel Cron, a crontab).
   * @default 'external' on Vercel, 'internal' elsewhere
   */
  cronMode: 'internal' | 'external';
  /** Age in days after which the weekly cleanup deletes crawl jobs with their results. @default 90 */
  scrapeJobRetentionDays: number;
  /** Where the crawler may connect (lib/jobs/egress.ts). */
  crawl: {
    /**
     * Hosts (by name, address or CIDR range) exempt from the refusal of private, loopback and other
     * non-public addresses and from the port rule: for development and tests only.
     * @default []
     */
    allowPrivateHosts: string[];
    /** @default [80, 443] */
    allowedPorts: number[];
  };
  adminToken: string | undefined;
  /**
   * Bearer token a Prometheus scraper sends to /api/metrics. In production the endpoint needs it
   * (or an admin session); elsewhere it is open.
   */
  metricsToken: string | undefined;
  /**
   * Keys of transfer files (lib/transfer/protect.ts): with `signingKey` (EXPORT_SIGNING_KEY) exports
   * are signed and imports refuse files not signed with it; with `encryptionKey`
   * (EXPORT_ENCRYPTION_KEY, 32 bytes) exports are encrypted with AES-256-GCM and encrypted files
   * can be imported.
   */
  transferKeys: { signingKey?: Buffer; encryptionKey?: Buffer };
  /**
   * An OpenAI-compatible chat-completions endpoint for the chat's answers (lib/chat/responder.ts),
   * present when OPENAI_API_KEY is set. Without it answers come from full-text search alone.
   */
  openai: { apiKey: string; baseUrl: string; model: string } | undefined;
  /**
   * Where the client's address comes from (lib/http.ts clientAddress): on Vercel its own header;
   * elsewhere the `X-Forwarded-For` list the server (scripts/serve.ts) ends with the socket address,
   * trusting `trustProxyHops` proxies in front of it. @default trustProxyHops 0 (the socket address)
   */
  clientAddress: { trustProxyHops: number; vercel: boolean };
  /**
   * Share of a customer's monthly message allowance one client address may spend in a day
   * (lib/widget/limits.ts). A fraction: WIDGET_ADDRESS_DAILY_SHARE is in percent. @default 0.05
   */
  widgetAddressDailyShare: number;
  /**
   * How long a process keeps a widget key's customer (and its origins and plan allowance) in memory
   * before asking the database again (lib/customers.ts cachedByPublicKey): the longest an updated
   * customer or a rotated key takes to reach other processes (the process that made the change
   * forgets at once). 0: no cache. @default 5000
   */
  widgetCustomerCacheMs: number;
  port: number;
  host: string | undefined;
  /** Tests must fail (never skip) when PostgreSQL or Redis is missing. True under CI. */
  requireServices: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`[omniops] [config] invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type ParsedEnv = z.output<typeof envSchema>;

/**
 * The Supabase keys under their current names or their legacy aliases. Both names of one key set to
 * different values is an error (which one was meant cannot be guessed), and so is a key of the wrong
 * kind: a secret key in a NEXT_PUBLIC_ variable would be bundled for browsers.
 */
function supabaseKeys(e: ParsedEnv, problems: string[]): { publishable: string | undefined; secret: string | undefined } {
  const pick = (current: keyof ParsedEnv, legacy: keyof ParsedEnv) => {
    const a = e[current] as string | undefined;
    const b = e[legacy] as string | undefined;
    if (a !== undefined && b !== undefined && a !== b) {
      problems.push(`${current}: differs from ${legacy}, its legacy alias; set one of them (or both to the same key)`);
    }
    return { value: a ?? b, name: a !== undefined ? current : legacy };
  };
  const publishable = pick('NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY', 'NEXT_PUBLIC_SUPABASE_ANON_KEY');
  const secret = pick('SUPABASE_SECRET_KEY', 'SUPABASE_SERVICE_ROLE_KEY');
  if (publishable.value?.startsWith('sb_secret_')) {
    problems.push(`${publishable.name}: is a secret key (sb_secret_…); NEXT_PUBLIC_ variables reach browsers — use the publishable key (sb_publishable_…)`);
  }
  if (secret.value?.startsWith('sb_publishable_')) {
    problems.push(`${secret.name}: is a publishable key (sb_publishable_…); the server needs the secret key (sb_secret_…)`);
  }
  if (e.NEXT_PUBLIC_SUPABASE_URL !== undefined && secret.value === undefined) {
    problems.push('SUPABASE_SECRET_KEY: required when NEXT_PUBLIC_SUPABASE_URL is set (or its legacy alias SUPABASE_SERVICE_ROLE_KEY)');
  }
  if (secret.value !== undefined && e.NEXT_PUBLIC_SUPABASE_URL === undefined) {
    problems.push(`NEXT_PUBLIC_SUPABASE_URL: required when ${secret.name} is set`);
  }
  return { publishable: publishable.value, secret: secret.value };
}

/** Parse an environment (default: `process.env`) into a `Config`; throws `ConfigError` naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  const bothOrNeither = (a: keyof typeof e, b: keyof typeof e) => {
    if (e[a] !== undefined && e[b] === undefined) problems.push(`${b}: required when ${a} is set`);
    if (e[b] !== undefined && e[a] === undefined) problems.push(`${a}: required when ${b} is set`);
  };
  const keys = supabaseKeys(e, problems);
  bothOrNeither('UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN');
  if (problems.length > 0) throw new ConfigError(problems);

  const nodeEnv = e.NODE_ENV ?? 'development';
  const isProduction = nodeEnv === 'production';
  return {
    nodeEnv,
    isProduction,
    supabase:
      e.NEXT_PUBLIC_SUPABASE_URL && keys.secret
        ? { url: e.NEXT_PUBLIC_SUPABASE_URL, anonKey: keys.publishable, serviceRoleKey: keys.secret }
        : undefined,
    databaseUrl: e.DATABASE_URL,
    // The data directory is chosen at run time; it is not part of the build output.
    dataDir: path.resolve(/*turbopackIgnore: true*/ e.OMNIOPS_DATA_DIR ?? '.data'),
    dbFallback: e.DB_FALLBACK ?? (isProduction ? 'off' : 'embedded'),
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS ?? 3000,
    dbProbeIntervalMs: e.DB_PROBE_INTERVAL_MS ?? 30_000,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS ?? 30_000,
    dbProbeTimeoutMs: e.DB_PROBE_TIMEOUT_MS ?? 1000,
    dbSlowCallMs: e.DB_SLOW_CALL_MS ?? 1000,
    dbFailoverProbes: e.DB_FAILOVER_PROBES ?? 2,
    widgetDeadlineMs: e.WIDGET_DEADLINE_MS ?? 8000,
    upstash:
      e.UPSTASH_REDIS_REST_URL && e.UPSTASH_REDIS_REST_TOKEN
        ? { url: e.UPSTASH_REDIS_REST_URL, token: e.UPSTASH_REDIS_REST_TOKEN }
        : undefined,
    redisUrl: e.REDIS_URL,
    cache: {
      timeoutMs: e.CACHE_TIMEOUT_MS ?? cacheDefaults.timeoutMs,
      failureThreshold: e.CACHE_FAILURE_THRESHOLD ?? cacheDefaults.failureThreshold,
      probeIntervalMs: e.CACHE_PROBE_INTERVAL_MS ?? cacheDefaults.probeIntervalMs,
      memoryMaxEntries: e.CACHE_MEMORY_MAX_ENTRIES ?? cacheDefaults.memoryMaxEntries,
      memoryMaxBytes: e.CACHE_MEMORY_MAX_BYTES ?? cacheDefaults.memoryMaxBytes,
      keyPrefix: e.CACHE_KEY_PREFIX ?? '',
    },
    cronSecret: e.CRON_SECRET,
    // Serverless functions do not live between requests, so on Vercel only Vercel Cron can trigger.
    cronMode: e.CRON_MODE ?? (e.VERCEL ? 'external' : 'internal'),
    scrapeJobRetentionDays: e.SCRAPE_JOB_RETENTION_DAYS ?? 90,
    crawl: {
      allowPrivateHosts: e.CRAWL_ALLOW_PRIVATE_HOSTS ?? [],
      allowedPorts: e.CRAWL_ALLOWED_PORTS?.length ? e.CRAWL_ALLOWED_PORTS : [80, 443],
    },
    adminToken: e.OMNIOPS_ADMIN_TOKEN,
    metricsToken: e.OMNIOPS_METRICS_TOKEN,
    transferKeys: {
      ...(e.EXPORT_SIGNING_KEY ? { signingKey: Buffer.from(e.EXPORT_SIGNING_KEY, 'utf8') } : {}),
      ...(e.EXPORT_ENCRYPTION_KEY ? { encryptionKey: e.EXPORT_ENCRYPTION_KEY } : {}),
    },
    openai: e.OPENAI_API_KEY
      ? { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL ?? 'https://api.openai.com/v1', model: e.OPENAI_MODEL ?? 'gpt-4o-mini' }
      : undefined,
    clientAddress: { trustProxyHops: e.TRUST_PROXY_HOPS ?? 0, vercel: Boolean(e.VERCEL) },
    widgetAddressDailyShare: (e.WIDGET_ADDRESS_DAILY_SHARE ?? 5) / 100,
    widgetCustomerCacheMs: e.WIDGET_CUSTOMER_CACHE_MS ?? 5000,
    port: e.PORT ?? 3000,
    host: e.HOST,
    requireServices: Boolean(e.CI || e.REQUIRE_SERVICES),
  };
}

const globalForConfig = globalThis as typeof globalThis & { __omniopsConfig?: Config };

/** The process's configuration, parsed once. */
export function getConfig(): Config {
  globalForConfig.__omniopsConfig ??= loadConfig();
  return globalForConfig.__omniopsConfig;
}

/**
 * Load `.env`, `.env.local`, `.env.<mode>` into `process.env` the way `next start`/`next dev` do, so
 * scripts (`npm start`, `db:migrate`, benchmarks) see the same configuration as the server.
 */
export function loadEnvFiles(mode: 'development' | 'production' = 'production'): void {
  nextEnv.loadEnvConfig(process.cwd(), mode === 'development', { info: () => {}, error: console.error });
}
