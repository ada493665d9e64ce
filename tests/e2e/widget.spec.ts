/**
 * The zero-loss promise in a real browser against the real app: offline and reload, a killed
 * browser, a server answering 503, two tabs of one session, a page on a wrong origin — and
 * malformed requests that must change nothing.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { NO_ANSWER_REPLY } from '@/lib/chat/responder';
import config from '../../playwright.config';
import { E2E_DATA_DIR, E2E_PORT } from './server';

const APP = `http://127.0.0.1:${E2E_PORT}`;
const launchOptions = config.projects?.[0]?.use?.launchOptions ?? {};

async function demoKey(request: APIRequestContext): Promise<string> {
  const html = await (await request.get('/demo')).text();
  const key = /data-customer=&quot;(pk_[A-Za-z0-9]+)&quot;|data-customer="(pk_[A-Za-z0-9]+)"/.exec(html);
  if (!key) throw new Error('no demo key on /demo');
  return (key[1] ?? key[2])!;
}

interface ServerState {
  messages: { role: string; content: string; clientMessageId: string | null }[];
  outbox: unknown[];
}

/** What the server holds for a session (the database's view, through the widget API). */
async function serverState(request: APIRequestContext, key: string, sessionId: string): Promise<ServerState> {
  const res = await request.get(`/api/widget/messages?key=${key}&sessionId=${sessionId}&after=0`, {
    headers: { 'x-omniops-host-origin': APP },
  });
  expect(res.status()).toBe(200);
  return (await res.json()) as ServerState;
}

const visitorTexts = (state: ServerState) => state.messages.filter((m) => m.role === 'visitor').map((m) => m.content);

/** Open the widget (top level, as the hosted chat page) and return its session id from IndexedDB. */
async function openWidget(page: Page, key: string): Promise<string> {
  await page.goto(`/widget?key=${key}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Demo Store' })).toBeVisible();
  return page.evaluate(
    (k) =>
      new Promise<string>((resolve, reject) => {
        const open = indexedDB.open('omniops-widget');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('outbox').objectStore('outbox').get(`omniops:session:v1:${k}`);
          get.onsuccess = () => resolve(get.result as string);
        };
      }),
    key,
  );
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

const states = (page: Page, state: string) => page.locator(`[data-state="${state}"]`);

test('a visitor message sent from the demo page reaches the server, and a staff reply reaches the widget', async ({
  page,
  request,
}) => {
  await page.goto('/demo');
  await page.getByRole('button', { name: 'Chat' }).click();
  const frame = page.frameLocator('iframe[title="Chat with Demo Store"]');
  const posted = page.waitForResponse((r) => r.url().endsWith('/api/widget/messages') && r.request().method() === 'POST');
  await frame.getByLabel('Message').fill('Do you ship to Norway?');
  await frame.getByRole('button', { name: 'Send' }).click();
  const { conversationId } = (await (await posted).json()) as { conversationId: string };
  await expect(frame.locator('[data-state="sent"]')).toHaveText(['Do you ship to Norway?sent']);

  const token = fs.readFileSync(path.join(E2E_DATA_DIR, 'admin-token'), 'utf8').trim();
  expect((await request.post('/api/auth/login', { data: { token } })).status()).toBe(200);
  const reply = await request.post(`/api/admin/conversations/${conversationId}/replies`, {
    // The app's origin, as the dashboard's own fetch sends it (admin mutations refuse a request without one).
    headers: { origin: APP },
    data: { content: 'Yes, in 3–5 days.', clientMessageId: `staff-${crypto.randomUUID()}` },
  });
  expect(reply.status(), await reply.text()).toBe(201);
  await expect(frame.getByText('Yes, in 3–5 days.')).toBeVisible({ timeout: 10_000 });
});

test('(a) offline: 10 messages survive a reload and are delivered once, in order, back online', async ({
  page,
  context,
  request,
}) => {
  const key = await demoKey(request);
  const sessionId = await openWidget(page, key);
  // The service worker keeps the widget's page and assets, so it reloads without a network.
  // (Polled from here: page.waitForFunction does not await a predicate's promise.)
  await expect
    .poll(() =>
      page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        const cached = await (await caches.open('omniops-widget-v1')).keys();
        return navigator.serviceWorker.controller !== null && cached.length > 3;
      }),
    )
    .toBe(true);

  await context.setOffline(true);
  const texts = Array.from({ length: 10 }, (_, i) => `offline message ${i + 1}`);
  for (const text of texts) await send(page, text);
  await expect(states(page, 'queued offline')).toHaveCount(10);

  await page.reload();
  await expect(states(page, 'queued offline')).toHaveCount(10);
  await expect(page.locator('.widget-visitor .widget-text')).toHaveText(texts);

  await context.setOffline(false);
  await expect(states(page, 'sent')).toHaveCount(10, { timeout: 20_000 });
  expect(visitorTexts(await serverState(request, key, sessionId))).toEqual(texts);
});

test('a batch of unanswerable messages sent offline gets one hand-off reply, not one per message', async ({ page, context, request }) => {
  const key = await demoKey(request);
  const sessionId = await openWidget(page, key);
  await context.setOffline(true);
  // Words no crawled page has (crawl.spec.ts may have crawled pages for the demo customer).
  const texts = Array.from({ length: 6 }, (_, i) => `zqxv wobbleflange ${crypto.randomBytes(4).toString('hex')} ${i}`);
  for (const text of texts) await send(page, text);
  await expect(states(page, 'queued offline')).toHaveCount(6);

  await context.setOffline(false);
  await expect(states(page, 'sent')).toHaveCount(6, { timeout: 20_000 });
  const bot = page.locator('.widget-bot');
  await expect(bot).toHaveCount(1, { timeout: 10_000 });
  await expect(bot).toContainText(NO_ANSWER_REPLY);
  const state = await serverState(request, key, sessionId);
  expect(state.messages.map((m) => m.role)).toEqual([...texts.map(() => 'visitor'), 'bot']);
  // Still one after further polls (every 2.5 s).
  await page.waitForTimeout(3000);
  await expect(bot).toHaveCount(1);
});

test('(b) messages queued when the browser is killed are delivered by the next browser', async ({ request }) => {
  const key = await demoKey(request);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-e2e-profile-'));
  const launch = () => chromium.launchPersistentContext(userDataDir, { ...launchOptions, baseURL: APP });
  try {
    const first = await launch();
    const page = first.pages()[0] ?? (await first.newPage());
    const sessionId = await openWidget(page, key);
    await first.setOffline(true);
    const texts = ['before the crash 1', 'before the crash 2', 'before the crash 3'];
    for (const text of texts) await send(page, text);
    await expect(states(page, 'queued offline')).toHaveCount(3);
    // Crash: SIGKILL every process of this browser, no chance to flush anything on exit.
    execFileSync('pkill', ['-KILL', '-f', '--', `--user-data-dir=${userDataDir}`]);
    await first.close().catch(() => {});

    const second = await launch();
    try {
      const again = second.pages()[0] ?? (await second.newPage());
      await openWidget(again, key);
      await expect(states(again, 'sent')).toHaveCount(3, { timeout: 20_000 });
      expect(visitorTexts(await serverState(request, key, sessionId))).toEqual(texts);
    } finally {
      await second.close();
    }
  } finally {
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});

test('(c) messages sent while the server answers 503 are delivered once it recovers', async ({ page, request }) => {
  const key = await demoKey(request);
  const sessionId = await openWidget(page, key);
  let failing = true;
  let refused = 0;
  await page.route('**/api/widget/messages', async (route) => {
    if (failing && route.request().method() === 'POST') {
      refused++;
      await route.fulfill({
        status: 503,
        headers: { 'retry-after': '1', 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 'unavailable', message: 'temporarily unavailable' } }),
      });
    } else {
      await route.continue();
    }
  });
  const texts = ['during the outage 1', 'during the outage 2', 'during the outage 3'];
  for (const text of texts) await send(page, text);
  // Sends wake the queue; after the last one it must keep retrying on its own (backoff, Retry-After).
  const afterTyping = refused;
  await expect.poll(() => refused, { timeout: 15_000 }).toBeGreaterThanOrEqual(afterTyping + 2);
  await expect(states(page, 'sent')).toHaveCount(0);
  await expect(states(page, 'sending')).toHaveCount(3);
  failing = false;
  await expect(states(page, 'sent')).toHaveCount(3, { timeout: 20_000 });
  expect(visitorTexts(await serverState(request, key, sessionId))).toEqual(texts);
});

test('(d) two tabs of one session replay without duplicates', async ({ context, request }) => {
  const key = await demoKey(request);
  const tabA = await context.newPage();
  const tabB = await context.newPage();
  const sessionId = await openWidget(tabA, key);
  expect(await openWidget(tabB, key)).toBe(sessionId);
  await context.setOffline(true);
  for (let i = 1; i <= 3; i++) await send(tabA, `tab A ${i}`);
  for (let i = 1; i <= 3; i++) await send(tabB, `tab B ${i}`);
  await context.setOffline(false);
  await expect
    .poll(async () => visitorTexts(await serverState(request, key, sessionId)).length, { timeout: 20_000 })
    .toBe(6);
  await tabA.waitForTimeout(3000); // let both tabs finish any replay they started
  const texts = visitorTexts(await serverState(request, key, sessionId));
  expect(texts.sort()).toEqual(['tab A 1', 'tab A 2', 'tab A 3', 'tab B 1', 'tab B 2', 'tab B 3']);
  await expect(states(tabB, 'sent')).toHaveCount(6, { timeout: 10_000 });
});

test('(e) on a page of a wrong origin the loader gets 403 and says the widget is not allowed there', async ({
  page,
  request,
}) => {
  const key = await demoKey(request);
  const site = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>Elsewhere</title><h1>Not a customer</h1>
      <script src="${APP}/embed.js" data-customer="${key}" async></script>`);
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  const elsewhere = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  try {
    const config = page.waitForResponse((r) => r.url().includes('/api/widget/config'));
    await page.goto(elsewhere);
    expect((await config).status()).toBe(403);
    await expect(page.getByRole('status')).toHaveText('This chat widget is not allowed on this site.');
    await expect(page.locator('iframe')).toHaveCount(0);

    const direct = await request.post('/api/widget/messages', {
      headers: { origin: elsewhere },
      data: { key, sessionId: 'elsewhere-session', messages: [{ clientMessageId: 'x', text: 'hi' }] },
    });
    expect(direct.status()).toBe(403);
    expect(direct.headers()['access-control-allow-origin']).toBeUndefined();
    const frame = await request.get(`/widget?key=${key}`);
    expect(frame.headers()['content-security-policy']).toBe(`frame-ancestors http://localhost:${E2E_PORT} ${APP}`);
  } finally {
    site.closeAllConnections();
    await new Promise((r) => site.close(r));
  }
});

test('malformed widget requests get a clear 4xx and change nothing', async ({ request }) => {
  const key = await demoKey(request);
  const sessionId = `bad-input-${crypto.randomBytes(6).toString('hex')}`;
  const ok = { clientMessageId: 'ok-1', text: 'hello' };
  const headers = { 'x-omniops-host-origin': APP };
  const cases: [string, unknown, number, RegExp][] = [
    ['not JSON', '{nope', 400, /body: not valid JSON/],
    ['an array', [], 400, /expected object/],
    ['no key', { sessionId, messages: [ok] }, 400, /^key: /],
    ['key of the wrong type', { key: 42, sessionId, messages: [ok] }, 400, /^key: /],
    ['an unknown key', { key: `pk_${'0'.repeat(32)}`, sessionId, messages: [ok] }, 403, /no widget has this key/],
    ['messages not an array', { key, sessionId, messages: 'hello' }, 400, /^messages: /],
    ['no messages', { key, sessionId, messages: [] }, 400, /messages: at least one message/],
    ['101 messages', { key, sessionId, messages: Array.from({ length: 101 }, (_, i) => ({ clientMessageId: `m${i}`, text: 'x' })) }, 400, /at most 100/],
    ['text too long', { key, sessionId, messages: [{ clientMessageId: 'm', text: 'x'.repeat(4001) }] }, 400, /messages\.0\.text: at most 4000/],
    ['blank text', { key, sessionId, messages: [{ clientMessageId: 'm', text: '   ' }] }, 400, /messages\.0\.text: must not be empty/],
    ['NUL in text', { key, sessionId, messages: [{ clientMessageId: 'm', text: 'a\u0000b' }] }, 400, /NUL/],
    ['SQL-ish message id', { key, sessionId, messages: [{ clientMessageId: "x'); drop table messages; --", text: 'hi' }] }, 400, /clientMessageId/],
    ['a short session id', { key, sessionId: 'abc', messages: [ok] }, 400, /^sessionId: /],
    ['a session id with SQL', { key, sessionId: "s' or '1'='1", messages: [ok] }, 400, /^sessionId: /],
    ['a huge body', { key, sessionId, messages: [ok], padding: 'x'.repeat(200_000) }, 413, /at most 65536 bytes/],
  ];
  for (const [name, body, status, message] of cases) {
    const res = await request.post('/api/widget/messages', {
      headers: { ...headers, 'content-type': 'application/json' },
      // Raw bytes: Playwright would JSON-encode a string body.
      data: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    });
    expect({ name, status: res.status() }).toEqual({ name, status });
    const error = ((await res.json()) as { error: { message: string } }).error;
    expect({ name, message: error.message }).toEqual({ name, message: expect.stringMatching(message) });
  }
  for (const query of [`key=${key}&sessionId=${sessionId}&after=-1`, `key=${key}`, `sessionId=${sessionId}`]) {
    expect((await request.get(`/api/widget/messages?${query}`, { headers })).status()).toBe(400);
  }
  expect(await serverState(request, key, sessionId)).toMatchObject({ messages: [], outbox: [] });

  // Unusual but valid text is stored exactly.
  const unicode = 'Grüße — 你好 — مرحبا — 👋🏽 — <script>alert(1)</script>';
  const res = await request.post('/api/widget/messages', {
    headers,
    data: { key, sessionId, messages: [{ clientMessageId: 'u-1', text: unicode }] },
  });
  expect(res.status()).toBe(200);
  expect(visitorTexts(await serverState(request, key, sessionId))).toEqual([unicode]);
});

test('a session sending too fast gets 429 with Retry-After, and its earlier messages are kept', async ({ request }) => {
  const key = await demoKey(request);
  const sessionId = `fast-${crypto.randomBytes(6).toString('hex')}`;
  const headers = { 'x-omniops-host-origin': APP, 'x-forwarded-for': '198.51.100.31' };
  const statuses: number[] = [];
  let refusal: { status: number; retryAfter?: string; body?: unknown } | undefined;
  // The limit counts messages: 100 a minute per session, here 10 requests of 10.
  for (let i = 0; i < 11; i++) {
    const messages = Array.from({ length: 10 }, (_, j) => ({ clientMessageId: `fast-${i}-${j}`, text: `message ${i}.${j}` }));
    const res = await request.post('/api/widget/messages', { headers, data: { key, sessionId, messages } });
    statuses.push(res.status());
    if (res.status() === 429) refusal = { status: 429, retryAfter: res.headers()['retry-after'], body: await res.json() };
  }
  expect(statuses.slice(0, 10).every((s) => s === 200)).toBe(true);
  expect(refusal).toMatchObject({
    status: 429,
    retryAfter: expect.stringMatching(/^\d+$/),
    body: { error: { code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) } },
  });
  expect(visitorTexts(await serverState(request, key, sessionId))).toHaveLength(100);
});
