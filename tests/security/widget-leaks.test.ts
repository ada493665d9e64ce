/**
 * Attacks on the widget routes' inputs and answers (issue 14, finding 9, the widget's part):
 *  - polls returned each undelivered message's `lastError` to anonymous visitors — internal text
 *    such as a model endpoint's answer or a database constraint;
 *  - every widget route body must be bounded: hostile bodies get a clear 4xx (413 / 400) in the API's
 *    error shape, never a 5xx, and change nothing.
 * On real PostgreSQL, through the route handlers.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as configRoute } from '@/app/api/widget/config/route';
import { GET as pollRoute, POST as sendRoute } from '@/app/api/widget/messages/route';
import { POST as sessionRoute } from '@/app/api/widget/session/route';
import { getConfig } from '@/lib/config';
import { createCustomer, type Customer } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import type { AdminCapable, Db } from '@/lib/db/types';
import { claimMessages, enqueueMessages, failMessages } from '@/lib/queue';
import { resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';

const SHOP = 'https://shop.example';
const BASE = 'http://127.0.0.1:3000';
let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let db: Db;
let customer: Customer;

beforeAll(async () => {
  pg = await migratedPostgres();
  await useAppEnv({ NODE_ENV: 'test', DATABASE_URL: pg.database.url, DB_FALLBACK: 'off' });
  db = await resolveDb(getConfig());
  ({ customer } = await createCustomer(db, { name: 'Shop', allowedOrigins: [SHOP] }));
});
afterAll(async () => {
  await resetApp();
  await pg?.dispose();
});

const headers = (extra: Record<string, string> = {}) => ({ origin: SHOP, 'x-forwarded-for': `198.51.100.${crypto.randomInt(1, 255)}`, ...extra });

describe('polling a session with a failed message', () => {
  it('shows the message as undelivered without its internal error', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    const { messages } = await enqueueMessages(db, { customerId: customer.id, sessionId, messages: [{ clientMessageId: 'x', data: { text: 'hi' } }] });
    await claimMessages(db, { ids: [messages[0]!.id] });
    await failMessages(db, [{ id: messages[0]!.id, error: 'model endpoint 10.0.0.5:8000 answered: quota exceeded for org-SECRET' }]);
    const url = `${BASE}/api/widget/messages?${new URLSearchParams({ key: customer.publicKey, sessionId })}`;
    const response = await pollRoute(new Request(url, { headers: headers() }));
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain('SECRET');
    expect(text).not.toContain('lastError');
    expect(JSON.parse(text).outbox).toEqual([{ clientMessageId: 'x', status: 'pending', position: expect.any(Number) }]);
  });
});

describe('hostile bodies', () => {
  const sessionId = 'hostile-session-1';
  const post = (route: typeof sendRoute, path: string, body: BodyInit, extra: Record<string, string> = {}) =>
    route(new Request(`${BASE}${path}`, { method: 'POST', headers: headers({ 'content-type': 'application/json', ...extra }), body, duplex: 'half' } as RequestInit));
  // Built when the test runs (the customer's key exists by then).
  const valid = (messages: unknown) => () => JSON.stringify({ key: customer.publicKey, sessionId, messages });
  const raw = (body: BodyInit) => () => body;

  const cases: [string, () => BodyInit, Record<string, string>?][] = [
    ['over 64 KiB', valid([{ clientMessageId: 'a', text: 'x'.repeat(70_000) }])],
    ['a Content-Length far over the bound', raw('{}'), { 'content-length': String(1 << 30) }],
    ['not JSON', raw('{"key": ')],
    ['invalid UTF-8', raw(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]))],
    ['deeply nested', raw('['.repeat(30_000) + ']'.repeat(30_000))],
    ['null', raw('null')],
    ['a string', raw('"hello"')],
    ['messages not an array', valid({ 0: 'x' })],
    ['101 messages', valid(Array.from({ length: 101 }, (_, i) => ({ clientMessageId: `m${i}`, text: 'x' })))],
    ['a NUL in the text', valid([{ clientMessageId: 'a', text: 'a\u0000b' }])],
    ['a lone surrogate in the text', valid([{ clientMessageId: 'a', text: 'a\ud800b' }])],
    ['a lone surrogate escaped in the JSON', () => valid([{ clientMessageId: 'a', text: 'SURROGATE' }])().replace('SURROGATE', '\\ud800')],
    ['an SQL payload as the key', raw(JSON.stringify({ key: "pk_' or 1=1 --", sessionId, messages: [{ clientMessageId: 'a', text: 'x' }] }))],
    ['a bad client message id', valid([{ clientMessageId: '../../etc', text: 'x' }])],
    ['a bad sentAt', valid([{ clientMessageId: 'a', text: 'x', sentAt: 'yesterday' }])],
    ['form-encoded', raw('key=pk_x&sessionId=y'), { 'content-type': 'application/x-www-form-urlencoded' }],
  ];

  it.each(cases)('refuses %s with a clear 4xx on every POST route, changing nothing', async (_label, bodyOf, extra) => {
    const before = await (db as Db & AdminCapable).admin.query<{ n: number }>('select count(*)::int as n from message_queue');
    for (const [route, path] of [
      [sendRoute, '/api/widget/messages'],
      [sessionRoute, '/api/widget/session'],
    ] as const) {
      const response = await post(route, path, bodyOf(), extra);
      const json = (await response.json()) as { error?: { code: string; message: string } };
      if (response.status === 200) {
        // Only the session route may accept a body the send route refuses (it ignores `messages`).
        expect(path).toBe('/api/widget/session');
        continue;
      }
      expect(response.status, `${path}: ${JSON.stringify(json)}`).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(json.error).toEqual({ code: expect.any(String), message: expect.any(String) });
    }
    const after = await (db as Db & AdminCapable).admin.query<{ n: number }>('select count(*)::int as n from message_queue');
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it.each([
    ['after negative', { after: '-1' }],
    ['after not a number', { after: '1e400' }],
    ['a session id too long', { sessionId: 's'.repeat(5000) }],
    ['no key', { key: '' }],
  ])('refuses a poll with %s as 400', async (_label, params) => {
    const query = new URLSearchParams({ key: customer.publicKey, sessionId, ...params });
    const response = await pollRoute(new Request(`${BASE}/api/widget/messages?${query}`, { headers: headers() }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    const config = await configRoute(new Request(`${BASE}/api/widget/config?key=${'k'.repeat(10_000)}`, { headers: headers() }));
    expect(config.status).toBe(400);
  });
});
