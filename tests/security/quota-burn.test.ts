/**
 * Attack: burning a customer's monthly message allowance through the public widget API (issue 14,
 * finding 1). The key and the allowed origin are in every embedding page; outside a browser
 * `Origin` is forged at will, session ids are invented per request, and each request carries 100
 * messages. Before the fix, limits counted requests per invented session and per first
 * X-Forwarded-For hop, so ten requests spent a free plan's 1,000 messages and every real visitor got
 * 429 until the month ended.
 *
 * Acceptance: a free-plan customer (1,000 messages a month) attacked for 10 minutes from one socket
 * address, with forged Origin, a fresh session id, 100 messages and a random X-Forwarded-For on
 * every request, accepts at most 50 messages in total; meanwhile a visitor from a second address
 * sends and gets answers normally.
 *
 * On real PostgreSQL and Redis, through the route handlers. Requests carry X-Forwarded-For as the
 * server hands it to the app (scripts/serve.ts: whatever the client sent, then the socket address).
 * Ten minutes pass on the limiter's own clock: Redis's TTLs, which `elapse` advances by shortening
 * every key's TTL (and expiring those it runs out), as waiting would.
 */
import crypto from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { POST as sendRoute } from '@/app/api/widget/messages/route';
import { getConfig } from '@/lib/config';
import { createCustomer, type Customer } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import { getUsage } from '@/lib/usage';
import { resetApp, useAppEnv } from '../support/app';
import { deleteKeys, uniquePrefix } from '../support/cache';
import { migratedPostgres } from '../support/databases';

const SHOP = 'https://shop.example';
const ATTACKER = '127.0.0.1';
const VISITOR = '127.0.0.2';
const prefix = uniquePrefix('quota-burn');

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let redis: ReturnType<typeof createClient>;
let customer: Customer;

beforeAll(async () => {
  pg = await migratedPostgres();
  redis = createClient({ url: inject('redisUrl'), RESP: 2 });
  await redis.connect();
  await useAppEnv({ NODE_ENV: 'test', DATABASE_URL: pg.database.url, DB_FALLBACK: 'off', REDIS_URL: inject('redisUrl'), CACHE_KEY_PREFIX: prefix });
  ({ customer } = await createCustomer(await resolveDb(getConfig()), { name: 'Free Shop', allowedOrigins: [SHOP], plan: 'free' }));
});
afterAll(async () => {
  await resetApp();
  redis?.destroy();
  await deleteKeys(inject('redisUrl'), prefix);
  await pg?.dispose();
});

/** Let `ms` pass for every key of this test: TTLs shrink, keys whose TTL runs out expire. */
async function elapse(ms: number): Promise<void> {
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    for (const key of keys) {
      const ttl = await redis.pTTL(key);
      if (ttl >= 0 && ttl <= ms) await redis.del(key);
      else if (ttl > ms) await redis.pExpire(key, ttl - ms);
    }
  }
}

const randomAddress = () => Array.from({ length: 4 }, () => crypto.randomInt(1, 255)).join('.');
const sessionId = () => crypto.randomBytes(12).toString('base64url');

/** POST /api/widget/messages from socket `socket`, with `forwarded` as the client's own X-Forwarded-For. */
async function send(socket: string, forwarded: string | null, body: object): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await sendRoute(
    new Request('http://127.0.0.1:3000/api/widget/messages', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: SHOP,
        'x-forwarded-for': forwarded ? `${forwarded}, ${socket}` : socket,
      },
      body: JSON.stringify(body),
    }),
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ clientMessageId: `m-${i}`, text: `spam ${i} ${crypto.randomUUID()}` }));

describe('a free plan attacked for 10 minutes from one address', () => {
  it('accepts at most 50 of the attacker’s messages while a visitor from another address is answered', async () => {
    let accepted = 0;
    const refusals = new Map<number, number>();
    const visitorSession = sessionId();
    const visitorReplies: number[] = [];
    for (let minute = 0; minute < 10; minute++) {
      // One request a second, each with 100 messages, a fresh session, a forged X-Forwarded-For.
      for (let second = 0; second < 60; second++) {
        const { status, json } = await send(ATTACKER, randomAddress(), { key: customer.publicKey, sessionId: sessionId(), messages: batch(100) });
        if (status === 200) accepted += (json.messages as unknown[]).length;
        else refusals.set(status, (refusals.get(status) ?? 0) + 1);
      }
      // The visitor, on the same page, asks one question a minute and gets its answer inline.
      const asked = await send(VISITOR, null, {
        key: customer.publicKey,
        sessionId: visitorSession,
        messages: [{ clientMessageId: `q-${minute}`, text: `Do you ship to Norway? (${minute})` }],
      });
      expect(asked.status).toBe(200);
      visitorReplies.push(((asked.json.messages as { status: string }[])[0]?.status === 'completed') ? 1 : 0);
      await elapse(60_000);
    }
    expect(accepted).toBeLessThanOrEqual(50);
    // Refused as rate limited (never as the plan's monthly limit: the allowance is intact).
    expect([...refusals.keys()]).toEqual([429]);
    expect(visitorReplies).toEqual(Array(10).fill(1));

    // The same address switching to small batches still gets no more than its daily share in all.
    for (let i = 0; i < 80; i++) {
      const { status, json } = await send(ATTACKER, randomAddress(), { key: customer.publicKey, sessionId: sessionId(), messages: batch(1) });
      if (status === 200) accepted += (json.messages as unknown[]).length;
    }
    expect(accepted).toBe(50);

    const usage = await getUsage(await resolveDb(getConfig()), customer.id);
    expect(usage?.messages.used).toBe(accepted + 10);
    // The visitor goes on being answered.
    const later = await send(VISITOR, null, {
      key: customer.publicKey,
      sessionId: visitorSession,
      messages: [{ clientMessageId: 'q-late', text: 'Still there?' }],
    });
    expect(later.status).toBe(200);
  });
});

describe('an unlimited plan flooded with sends', () => {
  it('answers at most 10 messages of a request and 600 a minute of the customer inline; the rest wait, none is lost', async () => {
    const { customer: big } = await createCustomer(await resolveDb(getConfig()), { name: 'Big Shop', allowedOrigins: [SHOP], plan: 'enterprise' });
    const statuses: string[] = [];
    // 70 addresses, 100 messages each, within one minute.
    for (let i = 0; i < 70; i++) {
      const { status, json } = await send(`10.9.0.${i + 1}`, null, { key: big.publicKey, sessionId: sessionId(), messages: batch(100) });
      expect(status).toBe(200);
      const answered = (json.messages as { status: string }[]).map((m) => m.status);
      expect(answered.filter((st) => st === 'completed').length).toBeLessThanOrEqual(10);
      statuses.push(...answered);
    }
    expect(statuses).toHaveLength(7000);
    expect(statuses.filter((st) => st === 'completed')).toHaveLength(600);
    expect(statuses.filter((st) => st !== 'completed').every((st) => st === 'pending')).toBe(true);
    // A minute later the budget is back.
    await elapse(60_000);
    const { json } = await send('10.9.1.1', null, { key: big.publicKey, sessionId: sessionId(), messages: batch(3) });
    expect((json.messages as { status: string }[]).map((m) => m.status)).toEqual(['completed', 'completed', 'completed']);
  });
});
