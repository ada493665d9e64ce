/**
 * Round trips per widget request (issue 16): what one single-message `POST /api/widget/messages`
 * and one `GET /api/widget/messages` poll cost the database and Redis, through the real route
 * handlers with the customer already in the process's cache (the steady state of an open widget).
 *
 * Counted three ways on PostgreSQL + Redis: `Db.rpc` calls of the app's database; transactions the
 * server committed in a database of the test's own (`pg_stat_database.xact_commit`; the app's
 * connections are closed around each measurement, which flushes their statistics, and the
 * connections opened for it — `sessions` — are subtracted: each costs one start-up transaction);
 * and requests written to Redis, through a TCP proxy (a pipelined batch is one write). On Supabase,
 * the HTTP requests the PostgREST double received.
 *
 * Budgets: a send at most 2 database round trips and 1 Redis round trip, a poll 1 and 1.
 */
import crypto from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { GET as pollRoute, POST as sendRoute } from '@/app/api/widget/messages/route';
import { getConfig } from '@/lib/config';
import { createCustomer, type Customer } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { resetApp, useAppEnv } from '../support/app';
import { deleteKeys, uniquePrefix } from '../support/cache';
import { migratedPostgres } from '../support/databases';
import { startPostgrestServer, type PostgrestServer } from '../support/postgrest-server';
import { proxyFor, type TcpProxy } from '../support/tcp-proxy';

const SHOP = 'https://shop.example';
const ROUNDS = 10;
const prefix = uniquePrefix('round-trips');

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let stats: postgres.Sql;
let redisProxy: TcpProxy;
let redisUrl: string;

beforeAll(async () => {
  pg = await migratedPostgres();
  // Statistics are read from another database of the server: reading them costs the measured one nothing.
  stats = postgres(inject('postgresUrl'), { max: 1, onnotice: () => {} });
  ({ proxy: redisProxy, url: redisUrl } = await proxyFor(inject('redisUrl'), 6379));
});
afterAll(async () => {
  await resetApp();
  await stats?.end();
  await redisProxy?.close();
  await deleteKeys(inject('redisUrl'), prefix);
  await pg?.dispose();
});

/** Count every `rpc` of `db` (the app's own instance) by function name. */
function countRpcs(db: Db): { calls: string[] } {
  const counted = { calls: [] as string[] };
  const rpc = db.rpc.bind(db);
  db.rpc = <T>(fn: string, args?: object): Promise<T> => {
    counted.calls.push(fn);
    return rpc<T>(fn, args);
  };
  return counted;
}

async function send(key: string, sessionId: string, clientMessageId: string, text: string) {
  const response = await sendRoute(
    new Request('http://127.0.0.1:3000/api/widget/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: SHOP },
      body: JSON.stringify({ key, sessionId, messages: [{ clientMessageId, text }] }),
    }),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as { messages: { status: string; position: number }[] };
}

async function poll(key: string, sessionId: string, after: number) {
  const response = await pollRoute(
    new Request(`http://127.0.0.1:3000/api/widget/messages?key=${key}&sessionId=${sessionId}&after=${after}`, {
      headers: { origin: SHOP },
    }),
  );
  expect(response.status).toBe(200);
  return (await response.json()) as { messages: { role: string; content: string; position: number }[] };
}

const newSession = () => crypto.randomBytes(12).toString('hex');

describe('round trips on PostgreSQL and Redis', () => {
  let db: Db;
  let customer: Customer;
  let rpcs: { calls: string[] };

  /** Committed transactions and sessions of the test's database, with every app connection closed. */
  async function settled(): Promise<{ xacts: number; sessions: number }> {
    db.abandonConnections!();
    pg.db.abandonConnections(); // the fixtures' own connections
    for (let i = 0; ; i++) {
      const [{ n }] = (await stats`select count(*)::int as n from pg_stat_activity where datname = ${pg.database.name}`) as unknown as [
        { n: number },
      ];
      if (n === 0) break;
      if (i > 250) throw new Error('the app’s connections did not close');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await stats`select pg_stat_clear_snapshot()`;
    const [row] = await stats`select xact_commit::int as xacts, sessions::int as sessions from pg_stat_database where datname = ${pg.database.name}`;
    return { xacts: row!.xacts as number, sessions: row!.sessions as number };
  }

  /** Database transactions, rpc calls and Redis requests `run` costs. */
  async function measureOnce(run: () => Promise<void>) {
    const before = await settled();
    const calls = rpcs.calls.length;
    const redis = redisProxy.requests;
    await run();
    const redisRequests = redisProxy.requests - redis;
    const after = await settled();
    return {
      transactions: after.xacts - before.xacts - (after.sessions - before.sessions),
      rpcs: rpcs.calls.slice(calls),
      redisRequests,
    };
  }

  /**
   * measureOnce, run again when the database counted more than `budget` transactions: the server's
   * own autovacuum / autoanalyze may commit in the database during a window (rarely, and hardly in
   * two windows in a row), while the app's calls count the same each time. The lower count is kept.
   */
  async function measure(budget: number, run: () => Promise<void>) {
    const first = await measureOnce(run);
    if (first.transactions <= budget) return first;
    const second = await measureOnce(run);
    return second.transactions < first.transactions ? second : first;
  }

  beforeAll(async () => {
    await useAppEnv({ NODE_ENV: 'test', DATABASE_URL: pg.database.url, DB_FALLBACK: 'off', REDIS_URL: redisUrl, CACHE_KEY_PREFIX: prefix });
    db = await resolveDb(getConfig());
    ({ customer } = await createCustomer(db, { name: 'Round Trip Shop', allowedOrigins: [SHOP], plan: 'pro' }));
    await pg.db.admin.query(
      `insert into scraped_pages (customer_id, url, title, content, content_hash)
       values ($1, 'https://shop.example/shipping', 'Shipping', 'We ship to Norway within five working days.', 'h1')`,
      [customer.id],
    );
    rpcs = countRpcs(db);
  });

  it(`costs at most 2 database and 1 Redis round trip per single-message send (${ROUNDS} sends)`, async () => {
    const sessionId = newSession();
    await send(customer.publicKey, sessionId, 'warm', 'hello'); // the customer into the cache, Redis connected
    let round = 0;
    const measured = await measure(2 * ROUNDS, async () => {
      for (let i = 0; i < ROUNDS; i++, round++) {
        const sent = await send(customer.publicKey, sessionId, `m-${round}`, `Do you ship to Norway? (${round})`);
        expect(sent.messages.map((m) => m.status)).toEqual(['completed']);
      }
    });
    // The answers came from the crawled page, found in the same round trip as the enqueue.
    const state = await poll(customer.publicKey, sessionId, 0);
    expect(state.messages.filter((m) => m.role === 'bot' && m.content.includes('https://shop.example/shipping'))).toHaveLength(round);
    expect({
      rpcsPerSend: measured.rpcs.length / ROUNDS,
      transactionsPerSend: measured.transactions / ROUNDS,
      redisPerSend: measured.redisRequests / ROUNDS,
    }).toEqual({
      rpcsPerSend: expect.toSatisfy((n: number) => n <= 2),
      transactionsPerSend: expect.toSatisfy((n: number) => n <= 2),
      redisPerSend: expect.toSatisfy((n: number) => n <= 1),
    });
    console.log(`[round-trips] send: ${JSON.stringify({ ...measured, rpcs: [...new Set(measured.rpcs)] })}`);
  });

  it(`costs at most 1 database and 1 Redis round trip per poll (${ROUNDS} polls, nothing new)`, async () => {
    const sessionId = newSession();
    await send(customer.publicKey, sessionId, 'q', 'Do you ship to Norway?');
    const latest = Math.max(...(await poll(customer.publicKey, sessionId, 0)).messages.map((m) => m.position));
    const measured = await measure(ROUNDS, async () => {
      for (let i = 0; i < ROUNDS; i++) expect((await poll(customer.publicKey, sessionId, latest)).messages).toEqual([]);
    });
    expect({
      rpcsPerPoll: measured.rpcs.length / ROUNDS,
      transactionsPerPoll: measured.transactions / ROUNDS,
      redisPerPoll: measured.redisRequests / ROUNDS,
    }).toEqual({
      rpcsPerPoll: expect.toSatisfy((n: number) => n <= 1),
      transactionsPerPoll: expect.toSatisfy((n: number) => n <= 1),
      redisPerPoll: expect.toSatisfy((n: number) => n <= 1),
    });
    console.log(`[round-trips] poll: ${JSON.stringify({ ...measured, rpcs: [...new Set(measured.rpcs)] })}`);
  });
});

describe('round trips on Supabase (the PostgREST double)', () => {
  let postgrest: PostgrestServer;
  let customer: Customer;

  beforeAll(async () => {
    postgrest = await startPostgrestServer({ databaseUrl: pg.database.url });
    await useAppEnv({
      NODE_ENV: 'test',
      NEXT_PUBLIC_SUPABASE_URL: postgrest.url,
      NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: postgrest.publishableKey,
      SUPABASE_SECRET_KEY: postgrest.secretKey,
      DB_FALLBACK: 'off',
      REDIS_URL: redisUrl,
      CACHE_KEY_PREFIX: prefix,
    });
    expect((await resolveDb(getConfig())).kind).toBe('supabase');
    ({ customer } = await createCustomer(pg.db, { name: 'Supabase Shop', allowedOrigins: [SHOP], plan: 'pro' }));
  });
  afterAll(async () => {
    await resetApp();
    await postgrest?.close();
  });

  it('costs at most 2 RPCs per single-message send and 1 per poll', async () => {
    const sessionId = newSession();
    await send(customer.publicKey, sessionId, 'warm', 'hello');
    let calls = postgrest.calls.length;
    for (let i = 0; i < ROUNDS; i++) {
      expect((await send(customer.publicKey, sessionId, `m-${i}`, `question ${i}`)).messages.map((m) => m.status)).toEqual(['completed']);
    }
    const sends = postgrest.calls.slice(calls);
    const latest = Math.max(...(await poll(customer.publicKey, sessionId, 0)).messages.map((m) => m.position));
    calls = postgrest.calls.length;
    for (let i = 0; i < ROUNDS; i++) expect((await poll(customer.publicKey, sessionId, latest)).messages).toEqual([]);
    const polls = postgrest.calls.slice(calls);
    console.log(`[round-trips] supabase: ${JSON.stringify({ sends: [...new Set(sends)], polls: [...new Set(polls)] })}`);
    expect({ perSend: sends.length / ROUNDS, perPoll: polls.length / ROUNDS }).toEqual({
      perSend: expect.toSatisfy((n: number) => n <= 2),
      perPoll: expect.toSatisfy((n: number) => n <= 1),
    });
  });
});
