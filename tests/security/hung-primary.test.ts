/**
 * A hung primary (issue 14, finding 8): a PostgreSQL that stops answering without refusing — the
 * TCP proxy of tests/support accepts connections and drops every byte — must not hang the app.
 *
 * - With DB_FALLBACK=embedded the app serves from the fallback within 5 s of the blackhole, and a
 *   widget request made meanwhile is answered before the widget's own timeout gives up.
 * - Without a fallback, a widget request is answered 503 + Retry-After by the server-side
 *   deadline, before the widget's timeout, instead of hanging.
 * - A failover is decided by failed health probes, not by one call: a slow query, a query past the
 *   statement timeout (direct and through a transaction pooler) and a single connection error of
 *   one call (a gateway error) leave the process on its primary.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { POST as sendRoute } from '@/app/api/widget/messages/route';
import { WIDGET_CLIENT_TIMEOUT_MS } from '@/lib/chat-widget/transport';
import { getConfig } from '@/lib/config';
import { createCustomer, type Customer } from '@/lib/customers';
import { DbError, SqlState } from '@/lib/db/errors';
import { FallbackDb } from '@/lib/db/fallback';
import { openMigratedPglite } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';
import { proxyFor, type TcpProxy } from '../support/tcp-proxy';

const SHOP = 'https://shop.example';

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let proxy: TcpProxy;
let proxiedUrl: string;
let customer: Customer;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-hung-primary-'));
const open: Db[] = [];

beforeAll(async () => {
  pg = await migratedPostgres();
  ({ proxy, url: proxiedUrl } = await proxyFor(pg.database.url, 5432));
  ({ customer } = await createCustomer(pg.db, { name: 'Hung Shop', allowedOrigins: [SHOP] }));
  // A query that takes as long as it is asked to (a slow report, a lock wait).
  await pg.db.admin.exec(`create function public.test_sleep(jsonb) returns jsonb language sql as $$
    select pg_sleep(($1 ->> 'seconds')::float8); select '{"slept":true}'::jsonb $$`);
});
afterEach(async () => {
  await proxy.restore();
  for (const db of open.splice(0)) await db.close().catch(() => {});
});
afterAll(async () => {
  await resetApp();
  await proxy?.close();
  await pg?.dispose();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms).unref());

function widgetSend(text: string): Promise<Response> {
  return sendRoute(
    new Request('http://localhost/api/widget/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: SHOP },
      body: JSON.stringify({
        key: customer.publicKey,
        sessionId: crypto.randomBytes(12).toString('hex'),
        messages: [{ clientMessageId: crypto.randomUUID(), text }],
      }),
    }),
  );
}

/** The request's answer, or 'hung' when it has none by the time the widget's fetch would give up. */
async function answeredBeforeTheWidgetGivesUp(request: Promise<Response>): Promise<Response> {
  const outcome = await Promise.race([request, sleep(WIDGET_CLIENT_TIMEOUT_MS)]);
  if (outcome === 'hung') throw new Error(`no answer within the widget's timeout of ${WIDGET_CLIENT_TIMEOUT_MS} ms`);
  return outcome;
}

describe('a blackholed primary', () => {
  it('with DB_FALLBACK=embedded: serves from the fallback within 5 s and answers the widget before its timeout', async () => {
    await useAppEnv({
      NODE_ENV: 'test',
      DATABASE_URL: proxiedUrl,
      DB_FALLBACK: 'embedded',
      OMNIOPS_DATA_DIR: path.join(dataDir, 'embedded'),
    });
    // Started first (migrating the embedded fallback takes seconds on a loaded machine, and the
    // widget's deadline counts from the request), then up and serving from the primary.
    const db = await resolveDb(getConfig());
    expect((await widgetSend('before')).status).toBe(200);
    expect(db.fallbackActive?.()).toBe(false);

    proxy.blackhole();
    const during = widgetSend('while the primary hangs');
    // A deadline on a fault scenario: the process must have failed over within 5 s.
    await expect.poll(() => db.fallbackActive?.(), { timeout: 5000, interval: 50 }).toBe(true);
    const answer = await answeredBeforeTheWidgetGivesUp(during);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { messages: unknown[] }).messages).toHaveLength(1);
    // Later requests go straight to the fallback.
    expect((await answeredBeforeTheWidgetGivesUp(widgetSend('after'))).status).toBe(200);
  });

  it('without a fallback: answers 503 with Retry-After before the widget gives up, instead of hanging', async () => {
    await useAppEnv({
      NODE_ENV: 'test',
      DATABASE_URL: proxiedUrl,
      DB_FALLBACK: 'off',
      OMNIOPS_DATA_DIR: path.join(dataDir, 'off'),
      WIDGET_DEADLINE_MS: '2000',
    });
    expect((await widgetSend('before')).status).toBe(200);
    proxy.blackhole();
    const answer = await answeredBeforeTheWidgetGivesUp(widgetSend('while the primary hangs'));
    expect(answer.status).toBe(503);
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await answer.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    await resetApp(); // its pool holds connections the blackhole swallowed
  });
});

describe('failover is decided by health probes, not by one call', () => {
  async function fallbackDb(primary: Db): Promise<FallbackDb> {
    const db = new FallbackDb({
      primary,
      openFallback: () => openMigratedPglite(path.join(fs.mkdtempSync(path.join(dataDir, 'db-')), 'pglite')),
      probeIntervalMs: 3_600_000,
      pingTimeoutMs: 1000,
      slowCallMs: 300,
      failoverProbes: 2,
    });
    open.push(db);
    await db.start({ hasJournal: false });
    return db;
  }

  it('a slow query stays on the primary (its slowness makes the process probe, and the probe answers)', async () => {
    const db = await fallbackDb(new PostgresDb(proxiedUrl, { connectTimeoutMs: 1000, statementTimeoutMs: 10_000, fetchTypes: false }));
    await expect(db.rpc('test_sleep', { seconds: 1.5 })).resolves.toEqual({ slept: true });
    expect(db.fallbackActive()).toBe(false);
  });

  for (const pooled of [false, true]) {
    it(`a query past the statement timeout is cancelled by the server and stays on the primary${pooled ? ' (transaction pooler)' : ''}`, async () => {
      const url = pooled ? `${proxiedUrl}?pgbouncer=true` : proxiedUrl;
      const db = await fallbackDb(new PostgresDb(url, { connectTimeoutMs: 1000, statementTimeoutMs: 500, fetchTypes: false }));
      const started = performance.now();
      await expect(db.rpc('test_sleep', { seconds: 5 })).rejects.toMatchObject({ code: SqlState.queryCanceled });
      expect(performance.now() - started).toBeLessThan(4000);
      expect(db.fallbackActive()).toBe(false);
      // The timeout holds for every call, not just the first on a connection.
      await expect(db.rpc('test_sleep', { seconds: 5 })).rejects.toMatchObject({ code: SqlState.queryCanceled });
      await expect(db.rpc('test_sleep', { seconds: 0 })).resolves.toEqual({ slept: true });
    });
  }

  it('one gateway error (a connection error of one call) is that call\'s failure: the process stays on the primary', async () => {
    const real = new PostgresDb(proxiedUrl, { connectTimeoutMs: 1000, fetchTypes: false });
    let failNext = false;
    const flaky: Db = {
      kind: 'postgres',
      ping: () => real.ping(),
      close: () => real.close(),
      async rpc<T>(fn: string, args?: object) {
        if (failNext) {
          failNext = false;
          throw new DbError(SqlState.connectionFailure, 'gateway answered 502 without a database');
        }
        return real.rpc<T>(fn, args);
      },
    };
    const db = await fallbackDb(flaky);
    failNext = true;
    await expect(db.rpc('test_sleep', { seconds: 0 })).rejects.toMatchObject({ code: SqlState.connectionFailure });
    expect(db.fallbackActive()).toBe(false);
    await expect(db.rpc('test_sleep', { seconds: 0 })).resolves.toEqual({ slept: true });
  });

  it('a primary that refuses connections is still left at once (consecutive failed probes)', async () => {
    const db = await fallbackDb(new PostgresDb(proxiedUrl, { connectTimeoutMs: 1000, fetchTypes: false }));
    await proxy.cut();
    await expect(createCustomer(db, { name: 'During the outage' })).resolves.toMatchObject({ customer: { name: 'During the outage' } });
    expect(db.fallbackActive()).toBe(true);
  });
});
