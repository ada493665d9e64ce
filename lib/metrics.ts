/**
 * Prometheus metrics (prom-client), served as text by `/api/metrics`.
 *
 * - Storage tiers, read at scrape time: `omniops_database_up`, `omniops_database_fallback_active`,
 *   `omniops_journal_pending` / `omniops_journal_failed` (writes made on the fallback not yet in the
 *   primary / set aside), `omniops_cache_fallback_active`, `omniops_queue_depth{status}`.
 * - Requests, counted as they are answered: `omniops_http_requests_total{route,method,status}` and
 *   `omniops_http_request_duration_seconds{route,method}`. `route` is the handler's path pattern
 *   (`/api/admin/customers/[id]/export`), never the URL, so the label set stays bounded.
 * - Node.js process metrics (prom-client's defaults: CPU, memory, event-loop lag, GC).
 *
 * A scrape never fails because a tier is down: the database gauges then say so (`up` 0) and the
 * queue depth, which needs the database, is left out of that scrape.
 *
 * The registry lives on globalThis: Next.js may load this module once per route bundle, and every
 * bundle must count into the one registry the metrics route serves.
 */
import { NextRequest } from 'next/server';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SESSION_COOKIE, isAdminSession } from '@/lib/auth/admin-session';
import { secretsEqual } from '@/lib/auth/secrets';
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import { getConfig, type Config } from '@/lib/config';
import { servingStatus } from '@/lib/db/fallback';
import type { ServingStatus } from '@/lib/db/types';
import { resolveDb } from '@/lib/db/resolve';
import { queueStats } from '@/lib/queue';
import type { QueueStats } from '@/lib/queue/types';

const QUEUE_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;

interface DatabaseReading {
  up: boolean;
  fallbackActive: boolean;
  journalPending: number;
  journalFailed: number;
  queue: QueueStats | null;
}

async function readDatabase(config: Config): Promise<DatabaseReading> {
  let status: ServingStatus | undefined;
  try {
    const db = await resolveDb(config);
    status = await servingStatus(db);
    const queue = await queueStats(db);
    return { up: true, ...status, queue };
  } catch {
    // The fallback's state is known even when nothing answers (production without a fallback).
    return { up: false, fallbackActive: false, journalPending: 0, journalFailed: 0, ...status, queue: null };
  }
}

interface Metrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  duration: Histogram<'route' | 'method'>;
}

function createMetrics(config: Config): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // The database is read once per scrape: every database gauge awaits the same read (prom-client
  // collects all metrics of a scrape concurrently).
  let reading: Promise<DatabaseReading> | undefined;
  const readOnce = () => {
    reading ??= readDatabase(config).finally(() => {
      reading = undefined;
    });
    return reading;
  };
  const databaseGauge = (name: string, help: string, value: (r: DatabaseReading) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await readOnce()));
      },
    });
  databaseGauge('omniops_database_up', 'Whether the database the app serves from answers (1) or not (0).', (r) => (r.up ? 1 : 0));
  databaseGauge(
    'omniops_database_fallback_active',
    'Whether the embedded fallback serves because the primary database is unreachable (1) or not (0).',
    (r) => (r.fallbackActive ? 1 : 0),
  );
  databaseGauge('omniops_journal_pending', 'Writes made on the fallback that are not in the primary yet.', (r) => r.journalPending);
  databaseGauge(
    'omniops_journal_failed',
    'Writes made on the fallback that the primary refused on replay (set aside, see /api/health).',
    (r) => r.journalFailed,
  );
  new Gauge({
    name: 'omniops_queue_depth',
    help: 'Messages in message_queue by status (absent from a scrape while the database is down).',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const { queue } = await readOnce();
      this.reset();
      if (queue) for (const s of QUEUE_STATUSES) this.set({ status: s }, queue[s]);
    },
  });
  new Gauge({
    name: 'omniops_cache_fallback_active',
    help: 'Whether the cache serves from process memory because Redis is unreachable (1) or not (0).',
    registers: [registry],
    collect() {
      this.set(getRedisClientWithFallback(config).state().degraded ? 1 : 0);
    },
  });

  return {
    registry,
    requests: new Counter({
      name: 'omniops_http_requests_total',
      help: 'HTTP requests answered, by route pattern, method and status.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'omniops_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (to the first byte of a streamed body), by route pattern and method.',
      labelNames: ['route', 'method'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

const globalForMetrics = globalThis as typeof globalThis & { __omniopsMetrics?: Metrics };

function metrics(): Metrics {
  globalForMetrics.__omniopsMetrics ??= createMetrics(getConfig());
  return globalForMetrics.__omniopsMetrics;
}

/** The process's metrics in the Prometheus text format, and its content type. */
export async function renderMetrics(): Promise<{ body: string; contentType: string }> {
  const { registry } = metrics();
  return { body: await registry.metrics(), contentType: registry.contentType };
}

/**
 * A route handler that counts its requests: `export const GET = observed('/api/x', async (req) => …)`.
 * A handler that throws is counted as a 500 (Next.js answers it so) and the error goes on.
 */
export function observed<A extends [request: Request, ...rest: unknown[]]>(
  route: string,
  handler: (...args: A) => Response | Promise<Response>,
): (...args: A) => Promise<Response> {
  return async (...args: A) => {
    const { requests, duration } = metrics();
    const method = args[0].method;
    const stop = duration.startTimer({ route, method });
    let status = 500;
    try {
      const response = await handler(...args);
      status = response.status;
      return response;
    } finally {
      stop();
      requests.inc({ route, method, status: String(status) });
    }
  };
}

/**
 * Who may read the metrics: anyone outside production; in production a scraper presenting
 * `Authorization: Bearer <OMNIOPS_METRICS_TOKEN>`, or a signed-in admin (session cookie).
 */
export function mayReadMetrics(config: Config, request: Request): boolean {
  if (!config.isProduction) return true;
  const bearer = /^Bearer (.+)$/i.exec(request.headers.get('authorization') ?? '')?.[1];
  if (bearer !== undefined && config.metricsToken !== undefined && secretsEqual(bearer, config.metricsToken)) return true;
  return isAdminSession(config, new NextRequest(request).cookies.get(SESSION_COOKIE)?.value);
}
