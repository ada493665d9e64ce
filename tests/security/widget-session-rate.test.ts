/**
 * The per-session send limit of the widget API (lib/widget/limits.ts, lib/cache/keys.ts: the
 * session's limit, 100 messages a minute), through the route handler on real PostgreSQL and Redis.
 * The per-address limits are higher (300 a minute; the daily share of a pro plan, 1,250), so
 * without the session rule the 101st message of a session would be accepted: this test is what
 * guards that rule outside the Playwright spec (tests/e2e/widget.spec.ts).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { POST as sendRoute } from '@/app/api/widget/messages/route';
import { widgetSessionRateKey } from '@/lib/cache/keys';
import { getConfig } from '@/lib/config';
import { createCustomer, type Customer } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import { sessionState } from '@/lib/widget';
import { resetApp, useAppEnv } from '../support/app';
import { deleteKeys, uniquePrefix } from '../support/cache';
import { migratedPostgres } from '../support/databases';

const SHOP = 'https://shop.example';
const prefix = uniquePrefix('session-rate');

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let customer: Customer;

beforeAll(async () => {
  pg = await migratedPostgres();
  await useAppEnv({ NODE_ENV: 'test', DATABASE_URL: pg.database.url, DB_FALLBACK: 'off', REDIS_URL: inject('redisUrl'), CACHE_KEY_PREFIX: prefix });
  ({ customer } = await createCustomer(await resolveDb(getConfig()), { name: 'Busy Shop', allowedOrigins: [SHOP], plan: 'pro' }));
});
afterAll(async () => {
  await resetApp();
  await deleteKeys(inject('redisUrl'), prefix);
  await pg?.dispose();
});

/** The session's limit, in messages a minute. */
const LIMIT = widgetSessionRateKey('send', 'any', 'any').limit;
/** The widget sends its outbox in batches of 10. */
const BATCH = 10;

async function send(sessionId: string, ids: string[]): Promise<Response> {
  return sendRoute(
    new Request('http://127.0.0.1:3000/api/widget/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: SHOP, 'x-forwarded-for': '127.0.0.3' },
      body: JSON.stringify({ key: customer.publicKey, sessionId, messages: ids.map((id) => ({ clientMessageId: id, text: `message ${id}` })) }),
    }),
  );
}

describe('one widget session sending fast', () => {
  it('gets 429 with Retry-After past its limit of messages in a minute, keeps the ones before, and other sessions go on', async () => {
    expect(LIMIT).toBe(100);
    const sessionId = `fast-${crypto.randomBytes(6).toString('hex')}`;
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i += BATCH) {
      statuses.push((await send(sessionId, Array.from({ length: BATCH }, (_, j) => `m-${i + j}`))).status);
    }
    expect(statuses).toEqual(Array(LIMIT / BATCH).fill(200));

    const refused = await send(sessionId, [`m-${LIMIT}`]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) } });

    const state = await sessionState(await resolveDb(getConfig()), customer, sessionId, 0);
    const visitor = state.messages.filter((m) => m.role === 'visitor').map((m) => m.clientMessageId);
    expect(visitor.sort()).toEqual(Array.from({ length: LIMIT }, (_, i) => `m-${i}`).sort());

    // The same address with another session is not refused: the limit is the session's.
    expect((await send(`other-${crypto.randomBytes(6).toString('hex')}`, ['o-0'])).status).toBe(200);
  });
});
