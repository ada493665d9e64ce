/**
 * The database outage end to end: the real app (`npm start`, DATABASE_URL set, DB_FALLBACK=embedded)
 * whose PostgreSQL is reached through a TCP proxy this test starts, cuts and restores — for the app,
 * the server stopping and coming back (the shared server itself is never stopped).
 *
 *  1. The app starts while nothing answers at DATABASE_URL: it serves from the embedded fallback,
 *     and /api/health and /api/metrics say so; once PostgreSQL answers it switches to it.
 *  2. A visitor chats in real Chromium while PostgreSQL goes away and comes back: every message is
 *     acknowledged, and after recovery PostgreSQL holds each one exactly once, the journal is
 *     empty, and the widget shows the conversation once, in order.
 */
import crypto from 'node:crypto';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { createCustomer } from '@/lib/customers';
import { PostgresDb } from '@/lib/db/postgres';
import type { Health } from '@/lib/health';
import { parsePrometheusText, sampleValue } from '../support/prometheus';
import { ensurePostgres, recreateMigratedDatabase, type PostgresService } from '../support/services';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { CRON_SECRET, E2E_DB_APP_PORT, E2E_DB_NAME, E2E_DB_PROXY_PORT, E2E_METRICS_TOKEN } from './server';

const base = `http://127.0.0.1:${E2E_DB_APP_PORT}`;

let service: PostgresService;
let primary: PostgresDb;
let proxy: TcpProxy | undefined;
let widgetKey: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  service = await ensurePostgres();
  primary = await recreateMigratedDatabase(service.url, E2E_DB_NAME);
  const { customer } = await createCustomer(primary, {
    name: 'Outage Store',
    allowedOrigins: [base, `http://localhost:${E2E_DB_APP_PORT}`],
  });
  widgetKey = customer.publicKey;
});

test.afterAll(async () => {
  await proxy?.close();
  await primary?.close();
  await service?.stop();
});

async function health(request: APIRequestContext): Promise<Health> {
  // The details are for monitoring (CRON_SECRET) and staff; anyone else sees up/down.
  const response = await request.get(`${base}/api/health`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
  expect(response.status()).toBe(200);
  return (await response.json()) as Health;
}

async function gauges(request: APIRequestContext): Promise<{ fallback?: number; journal?: number }> {
  // Production (`next start`): the endpoint needs the token.
  expect((await request.get(`${base}/api/metrics`)).status()).toBe(401);
  const response = await request.get(`${base}/api/metrics`, { headers: { authorization: `Bearer ${E2E_METRICS_TOKEN}` } });
  expect(response.status()).toBe(200);
  const families = parsePrometheusText(await response.text());
  return {
    fallback: sampleValue(families, 'omniops_database_fallback_active'),
    journal: sampleValue(families, 'omniops_journal_pending'),
  };
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

test('started while its database is unreachable, the app serves from the embedded fallback, then switches to PostgreSQL', async ({
  request,
}) => {
  expect((await health(request)).db).toMatchObject({ kind: 'pglite', primary: 'postgres', fallbackActive: true, ok: true });
  expect((await health(request)).db.lastError).toMatch(/ECONNREFUSED|timed out/);
  expect(await gauges(request)).toEqual({ fallback: 1, journal: 0 });

  const server = new URL(service.url);
  proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) }, E2E_DB_PROXY_PORT);
  await expect.poll(async () => (await health(request)).db, { timeout: 15_000 }).toMatchObject({
    kind: 'postgres',
    fallbackActive: false,
    journalPending: 0,
  });
  expect(await gauges(request)).toEqual({ fallback: 0, journal: 0 });
});

test('messages a visitor sends while PostgreSQL is away reach it exactly once after it returns', async ({ page, request }) => {
  await page.goto(`${base}/widget?key=${widgetKey}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Outage Store' })).toBeVisible();
  const visitor = page.locator('.widget-visitor');
  const run = crypto.randomBytes(3).toString('hex');
  const before = [1, 2, 3].map((i) => `${run} before the outage ${i}`);
  const during = [1, 2, 3, 4].map((i) => `${run} during the outage ${i}`);
  const after = [`${run} after the recovery`];

  for (const text of before) await send(page, text);
  await expect(visitor.and(page.locator('[data-state="sent"]'))).toHaveCount(3);

  await proxy!.cut();
  for (const text of during) await send(page, text);
  // Acknowledged by the app (from the fallback): nothing is left waiting in the browser.
  await expect(visitor.and(page.locator('[data-state="sent"]'))).toHaveCount(7, { timeout: 15_000 });
  const outage = (await health(request)).db;
  expect(outage).toMatchObject({ kind: 'pglite', fallbackActive: true });
  expect(outage.journalPending).toBeGreaterThanOrEqual(during.length);
  const duringGauges = await gauges(request);
  expect(duringGauges.fallback).toBe(1);
  expect(duringGauges.journal).toBeGreaterThanOrEqual(during.length);

  await proxy!.restore();
  await expect.poll(async () => (await health(request)).db, { timeout: 15_000 }).toMatchObject({
    kind: 'postgres',
    fallbackActive: false,
    journalPending: 0,
    journalFailed: 0,
  });
  expect(await gauges(request)).toEqual({ fallback: 0, journal: 0 });
  for (const text of after) await send(page, text);

  // PostgreSQL holds every message once, in the order sent.
  const texts = [...before, ...during, ...after];
  await expect
    .poll(async () => {
      const rows = await primary.admin.query<{ content: string }>(
        `select m.content from messages m join customers c on c.id = m.customer_id
          where c.public_key = $1 and m.role = 'visitor' and m.content like $2 order by m.position`,
        [widgetKey, `${run} %`],
      );
      return rows.map((r) => r.content);
    })
    .toEqual(texts);
  const queued = await primary.admin.query<{ n: number; distinct_keys: number }>(
    `select count(*)::int as n, count(distinct client_message_id)::int as distinct_keys
       from message_queue q join customers c on c.id = q.customer_id where c.public_key = $1`,
    [widgetKey],
  );
  expect(queued[0]).toEqual({ n: texts.length, distinct_keys: texts.length });

  // The widget, re-reading after the switch, shows the conversation once, in order.
  await expect(page.locator('.widget-visitor .widget-text')).toHaveText(texts);
  await page.reload();
  await expect(page.locator('.widget-visitor .widget-text')).toHaveText(texts);
});
