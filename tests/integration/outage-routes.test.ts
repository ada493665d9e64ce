/**
 * The route handlers during outages, on real services: PostgreSQL and Redis reached through TCP
 * proxies the test cuts and restores, the fallback in a real PGlite directory.
 *
 * - /api/metrics serves valid Prometheus text whose gauges flip while the database or Redis is
 *   away and flip back when they return (journal drained), and counts requests by route and status.
 * - In production without DB_FALLBACK nothing falls back: requests that need the database answer
 *   503 with Retry-After at once, health says why, and metrics stay readable (with the token).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GET as health } from '@/app/api/health/route';
import { GET as metricsRoute } from '@/app/api/metrics/route';
import { GET as widgetConfig } from '@/app/api/widget/config/route';
import { POST as sendRoute } from '@/app/api/widget/messages/route';
import { SESSION_COOKIE, issueSession } from '@/lib/auth/admin-session';
import { getConfig } from '@/lib/config';
import { createCustomer, getCustomer } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import type { Health } from '@/lib/health';
import { resetApp, useAppEnv } from '../support/app';
import { deleteKeys, uniquePrefix } from '../support/cache';
import { takeLogs } from '../support/log-capture';
import { migratedPostgres } from '../support/databases';
import { parsePrometheusText, sampleValue } from '../support/prometheus';
import { proxyFor, type TcpProxy } from '../support/tcp-proxy';

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let proxiedPg: string;
let redisUrl: string;
const prefix = uniquePrefix('outage-routes');
/** Monitoring's secret: /api/health shows its details only to it (or to signed-in staff). */
const CRON_SECRET = 'outage-routes-cron-secret-0123456789';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-outage-routes-'));

beforeAll(async () => {
  pg = await migratedPostgres();
  ({ proxy: pgProxy, url: proxiedPg } = await proxyFor(pg.database.url, 5432));
  ({ proxy: redisProxy, url: redisUrl } = await proxyFor(inject('redisUrl'), 6379));
});
afterAll(async () => {
  await resetApp();
  await pgProxy?.close();
  await redisProxy?.close();
  await pg?.dispose();
  await deleteKeys(inject('redisUrl'), prefix);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function scrape(headers: Record<string, string> = {}) {
  const response = await metricsRoute(new Request('http://localhost/api/metrics', { headers }));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

async function healthOf(): Promise<{ status: number; body: Health }> {
  const response = await health(new Request('http://localhost/api/health', { headers: { authorization: `Bearer ${CRON_SECRET}` } }));
  return { status: response.status, body: (await response.json()) as Health };
}

describe('the Prometheus reader the tests rely on', () => {
  it('refuses malformed exposition text', () => {
    expect(() => parsePrometheusText('a 1')).toThrow(/newline/);
    expect(() => parsePrometheusText('a{b="1" 2\n')).toThrow(/not a sample/);
    expect(() => parsePrometheusText('a{x="1"} 1\nb 2\na{x="2"} 3\n')).toThrow(/contiguous/);
    expect(() => parsePrometheusText('a{x="1"} 1\na{x="1"} 2\n')).toThrow(/repeated/);
    expect(() => parsePrometheusText('# TYPE a gauge\na 1\n# HELP a late\n')).toThrow(/after samples/);
    expect(sampleValue(parsePrometheusText('# TYPE a gauge\na{x="y \\"q\\""} 1.5e3\n'), 'a', { x: 'y "q"' })).toBe(1500);
  });
});

describe('metrics through a database and a Redis outage (DB_FALLBACK=embedded)', () => {
  beforeAll(async () => {
    await useAppEnv({
      NODE_ENV: 'test',
      CRON_SECRET,
      DATABASE_URL: proxiedPg,
      DB_FALLBACK: 'embedded',
      DB_CONNECT_TIMEOUT_MS: '500',
      DB_PROBE_INTERVAL_MS: '100',
      OMNIOPS_DATA_DIR: path.join(dataDir, 'fallback'),
      REDIS_URL: redisUrl,
      CACHE_KEY_PREFIX: prefix,
      CACHE_FAILURE_THRESHOLD: '1',
      CACHE_PROBE_INTERVAL_MS: '50',
    });
  });

  it('serves every gauge and counts requests by route, method and status', async () => {
    await expect(widgetConfig(new Request('http://localhost/api/widget/config?key=nope'))).resolves.toHaveProperty('status', 400);
    await scrape();
    const families = await scrape();
    for (const name of ['omniops_database_up', 'omniops_database_fallback_active', 'omniops_journal_pending', 'omniops_cache_fallback_active']) {
      expect(families.get(name)?.type, name).toBe('gauge');
    }
    expect(sampleValue(families, 'omniops_database_up')).toBe(1);
    expect(sampleValue(families, 'omniops_database_fallback_active')).toBe(0);
    expect(sampleValue(families, 'omniops_journal_pending')).toBe(0);
    expect(sampleValue(families, 'omniops_cache_fallback_active')).toBe(0);
    for (const status of ['pending', 'processing', 'completed', 'failed']) {
      expect(sampleValue(families, 'omniops_queue_depth', { status })).toBe(0);
    }
    expect(families.get('omniops_http_requests_total')?.type).toBe('counter');
    expect(sampleValue(families, 'omniops_http_requests_total', { route: '/api/widget/config', method: 'GET', status: '400' })).toBe(1);
    expect(sampleValue(families, 'omniops_http_requests_total', { route: '/api/metrics', method: 'GET', status: '200' })).toBe(1);
    expect(families.get('omniops_http_request_duration_seconds')?.type).toBe('histogram');
    expect(sampleValue(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('flips the fallback, journal and cache gauges during the outage and back after recovery', async () => {
    await pgProxy.cut();
    await redisProxy.cut();
    // A write during the outage: served by the fallback and journaled.
    const db = await resolveDb(getConfig());
    const id = crypto.randomUUID();
    await createCustomer(db, { id, name: 'Written during the outage', allowedOrigins: ['https://shop.example'] });
    expect((await healthOf()).body.cache.degraded).toBe(true);

    const during = await scrape();
    expect(sampleValue(during, 'omniops_database_up')).toBe(1);
    expect(sampleValue(during, 'omniops_database_fallback_active')).toBe(1);
    expect(sampleValue(during, 'omniops_journal_pending')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(during, 'omniops_cache_fallback_active')).toBe(1);
    const { status, body } = await healthOf();
    expect(status).toBe(200);
    expect(body.db).toMatchObject({ kind: 'pglite', primary: 'postgres', fallbackActive: true, journalPending: expect.any(Number) });
    expect(body.db.since).not.toBeNull();

    await pgProxy.restore();
    await redisProxy.restore();
    await expect
      .poll(
        async () => {
          await healthOf(); // a call through the cache lets its breaker see Redis again
          const after = await scrape();
          return ['omniops_database_fallback_active', 'omniops_journal_pending', 'omniops_cache_fallback_active'].map((n) =>
            sampleValue(after, n),
          );
        },
        { timeout: 10_000 },
      )
      .toEqual([0, 0, 0]);
    expect(await getCustomer(pg.db, id)).toMatchObject({ name: 'Written during the outage' });
    expect((await healthOf()).body.db).toMatchObject({ kind: 'postgres', fallbackActive: false, journalPending: 0, since: null });
  });
});

describe('production without DB_FALLBACK, database down', () => {
  const adminToken = crypto.randomBytes(24).toString('hex');
  const metricsToken = crypto.randomBytes(24).toString('hex');

  beforeAll(async () => {
    await useAppEnv({
      NODE_ENV: 'production',
      CRON_SECRET,
      DATABASE_URL: proxiedPg,
      DB_CONNECT_TIMEOUT_MS: '500',
      OMNIOPS_DATA_DIR: path.join(dataDir, 'production'),
      OMNIOPS_ADMIN_TOKEN: adminToken,
      OMNIOPS_METRICS_TOKEN: metricsToken,
    });
    await pgProxy.cut();
  });
  afterAll(async () => {
    await pgProxy.restore();
  });

  it('answers 503 with Retry-After at once, and never serves from an embedded database', async () => {
    const started = performance.now();
    const response = await sendRoute(
      new Request('http://localhost/api/widget/messages', {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://shop.example' },
        body: JSON.stringify({
          key: `pk_${'a'.repeat(32)}`,
          sessionId: crypto.randomBytes(12).toString('hex'),
          messages: [{ clientMessageId: 'm-1', text: 'Anyone there?' }],
        }),
      }),
    );
    expect(response.status).toBe(503);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(performance.now() - started).toBeLessThan(5000); // the connect timeout, not a hang
    // The operator is told why (lib/http.ts), once for the request.
    expect(takeLogs('database unavailable', 'warn').map((r) => r.origin)).toEqual(['http']);
    const { status, body } = await healthOf();
    expect(status).toBe(503);
    expect(body.db).toMatchObject({ kind: 'postgres', primary: 'postgres', fallbackActive: false, ok: false });
    expect(body.db.error).toMatch(/ECONNREFUSED|connect/i);
    expect(fs.existsSync(path.join(dataDir, 'production'))).toBe(false);
  });

  it('protects /api/metrics: the bearer token or an admin session', async () => {
    for (const headers of <Record<string, string>[]>[{}, { authorization: 'Bearer wrong-token-0123456789' }, { cookie: `${SESSION_COOKIE}=v1.1.x.y` }]) {
      const refused = await metricsRoute(new Request('http://localhost/api/metrics', { headers }));
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const byToken = await scrape({ authorization: `Bearer ${metricsToken}` });
    expect(sampleValue(byToken, 'omniops_database_up')).toBe(0);
    expect(sampleValue(byToken, 'omniops_database_fallback_active')).toBe(0);
    expect(byToken.get('omniops_queue_depth')?.samples).toEqual([]);
    const bySession = await scrape({ cookie: `${SESSION_COOKIE}=${issueSession(adminToken)}` });
    expect(sampleValue(bySession, 'omniops_http_requests_total', { route: '/api/metrics', status: '401' })).toBe(3);
  });
});
