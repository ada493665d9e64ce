/**
 * The outage fallback with real parts: the primary is a real PostgreSQL database reached through a
 * TCP proxy the test cuts and restores (connections refused / dropped, as when the server stops);
 * the fallback is a real PGlite directory. What must hold: no acknowledged write is lost or
 * duplicated across an outage, a replay survives being interrupted and a restart, a write the
 * primary refuses is set aside without blocking the rest, and SQL errors never cause a switch.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Responder } from '@/lib/queue/responder';
import { createCustomer, type Customer } from '@/lib/customers';
import { DbError, SqlState } from '@/lib/db/errors';
import { FallbackDb } from '@/lib/db/fallback';
import { PgliteDb, openMigratedPglite } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import type { Db } from '@/lib/db/types';
import { FallbackCache } from '@/lib/cache/fallback';
import { MemoryStore } from '@/lib/cache/memory';
import { parseWith } from '@/lib/http';
import { PersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import { drainQueue } from '@/lib/queue/processor';
import { sendMessages, sendSchema } from '@/lib/widget';
import { migratedPostgres } from '../support/databases';
import { proxyFor, type TcpProxy } from '../support/tcp-proxy';

const echo: Responder = {
  async respond(message) {
    return { reply: { content: `re: ${message.data.text}` }, needsStaff: false };
  },
};

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let proxy: TcpProxy;
let proxiedUrl: string;
const dirs: string[] = [];
const open: FallbackDb[] = [];

beforeAll(async () => {
  pg = await migratedPostgres();
  ({ proxy, url: proxiedUrl } = await proxyFor(pg.database.url, 5432));
});
afterAll(async () => {
  await proxy?.close();
  await pg?.dispose();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await proxy.restore();
  for (const db of open.splice(0)) await db.close().catch(() => {});
});

function newDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-fallback-'));
  dirs.push(dir);
  return path.join(dir, 'pglite');
}

/** A serving Db as resolveDb builds it, with the probe left to the test (recover()). */
async function fallbackDb(
  dir: string,
  primary: Db = new PostgresDb(proxiedUrl, { connectTimeoutMs: 500, max: 4, fetchTypes: false }),
  openFallback: () => Promise<Db> = () => openMigratedPglite(dir),
) {
  const db = new FallbackDb({
    primary,
    openFallback,
    probeIntervalMs: 3_600_000,
    pingTimeoutMs: 1000,
    replayBatch: 5,
  });
  open.push(db);
  await db.start({ hasJournal: fs.existsSync(dir) });
  return db;
}

async function shop(db: Db): Promise<Customer> {
  return (await createCustomer(db, { name: `Shop ${crypto.randomUUID()}`, allowedOrigins: ['https://shop.example'] })).customer;
}

/** The visitor messages, replies and queued messages (any status) the PRIMARY holds for a session. */
async function onPrimary(sessionId: string): Promise<{ visitor: string[]; bot: string[]; queue: string[] }> {
  const messages = await pg.db.admin.query<{ role: string; client_message_id: string }>(
    `select m.role, m.client_message_id from messages m join conversations c on c.id = m.conversation_id
      where c.session_id = $1 order by m.client_message_id`,
    [sessionId],
  );
  const queue = await pg.db.admin.query<{ client_message_id: string }>(
    `select client_message_id from message_queue where session_id = $1 order by 1`,
    [sessionId],
  );
  return {
    visitor: messages.filter((m) => m.role === 'visitor').map((m) => m.client_message_id),
    bot: messages.filter((m) => m.role === 'bot').map((m) => m.client_message_id),
    queue: queue.map((q) => q.client_message_id),
  };
}

const send = (db: Db, customer: Customer, sessionId: string, id: string) =>
  sendMessages(db, customer, parseWith(sendSchema, { key: customer.publicKey, sessionId, messages: [{ clientMessageId: id, text: id }] }), echo);

describe('outage fallback', () => {
  it('serves from the fallback when the primary is down at start, and hands every write over on recovery', async () => {
    await proxy.cut();
    const db = await fallbackDb(newDir());
    expect(await db.status()).toMatchObject({ primary: 'postgres', fallbackActive: true, lastError: expect.stringMatching(/ECONNREFUSED|timed out/) });
    const id = crypto.randomUUID();
    const { customer } = await createCustomer(db, { id, name: 'Created during the outage' });
    expect((await db.status()).journalPending).toBe(1);

    await proxy.restore();
    expect(await db.recover()).toBe(true);
    expect(await db.status()).toMatchObject({ fallbackActive: false, journalPending: 0, since: null, lastError: null });
    // The very same customer — id and widget key — now exists on the primary.
    const [row] = await pg.db.admin.query<{ public_key: string }>('select public_key from customers where id = $1', [id]);
    expect(row?.public_key).toBe(customer.publicKey);
  });

  it('keeps every acknowledged write, exactly once, across an outage in the middle of a load', async () => {
    const db = await fallbackDb(newDir());
    const customer = await shop(db);
    await db.refreshCustomerCopy(); // what the next probe tick would do

    const sessionId = `load-${crypto.randomBytes(6).toString('hex')}`;
    const acknowledged: string[] = [];
    let stop = false;
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; !stop && i < 60; i++) {
        const id = `w${w}-${i}`;
        await send(db, customer, sessionId, id);
        acknowledged.push(id);
      }
    });
    const until = async (n: number) => {
      while (acknowledged.length < n) await new Promise((r) => setTimeout(r, 5));
    };
    // A crawl started during the outage records its pages throughout it and after the recovery.
    const jobId = `outage-crawl-${crypto.randomBytes(4).toString('hex')}`;
    const recorded: string[] = [];
    let cut = false;
    const crawler = (async () => {
      while (!cut) await new Promise((r) => setTimeout(r, 5));
      const jobs = new PersistentJobManager(db, new FallbackCache(undefined, new MemoryStore()));
      await jobs.createJob(jobId, { customerId: customer.id, domain: 'shop.example', config: { startUrl: 'https://shop.example/' } });
      for (let i = 0; !stop && i < 400; i++) {
        const url = `https://shop.example/p${i}`;
        const failed = i % 5 === 0;
        await jobs.addJobResult(jobId, { depth: 1 }, {
          url,
          status: failed ? 'failed' : 'success',
          httpStatus: failed ? 500 : 200,
          processingTimeMs: 10 + (i % 7),
          bytes: 100 + i,
        });
        recorded.push(url);
      }
    })();
    await until(40);
    await proxy.cut(); // the primary goes away mid-load
    cut = true;
    await until(120);
    expect((await db.status()).fallbackActive).toBe(true);
    expect((await db.status()).journalPending).toBeGreaterThan(0);
    await proxy.restore();
    // Replays while the writers keep writing. Under this load (the fallback's PGlite shares the event
    // loop) a probe's 1 s ping can time out; the probe timer would simply try again, as this does.
    await expect.poll(() => db.recover(), { timeout: 15_000, interval: 50 }).toBe(true);
    await until(200);
    stop = true;
    await Promise.all([...writers, crawler]);

    expect(await db.status()).toMatchObject({ fallbackActive: false, journalPending: 0, journalFailed: 0 });
    // Every acknowledged page result is on the primary once, with stats that count each once.
    expect(recorded.length).toBeGreaterThan(0);
    const pages = await pg.db.admin.query<{ url: string }>('select url from scrape_job_results where job_id = $1 order by url', [jobId]);
    expect(pages.map((p) => p.url)).toEqual([...recorded].sort());
    const [stats] = await pg.db.admin.query<{ total_pages: number; failed_pages: number; total_bytes: string }>(
      'select total_pages, failed_pages, total_bytes from scrape_job_stats where job_id = $1',
      [jobId],
    );
    const failedUrls = recorded.filter((url) => Number(url.split('/p')[1]) % 5 === 0);
    expect(stats).toEqual({
      total_pages: recorded.length,
      failed_pages: failedUrls.length,
      total_bytes: String(recorded.reduce((sum, url) => sum + 100 + Number(url.split('/p')[1]), 0)),
    });
    const expected = [...acknowledged].sort();
    // Every acknowledged message is stored once on the primary…
    expect((await onPrimary(sessionId)).queue).toEqual(expected);
    // …and delivered once the worker has run: a message whose enqueue reached the primary just
    // before the cut was claimed there, its delivery then failing over to a fallback that never
    // saw it; its claim expires and process-queue delivers it.
    await pg.db.admin.query(`update message_queue set available_at = now() where session_id = $1 and status = 'processing'`, [
      sessionId,
    ]);
    await drainQueue(db, echo, { budgetMs: 30_000 });
    const held = await onPrimary(sessionId);
    expect(held.visitor).toEqual(expected);
    expect(held.bot).toEqual(expected.map((id) => `reply:${id}`).sort());
    // A load test: 240 writes and 400 crawl results through an outage take 20–35 s on the loaded
    // 2-core machine (the suite's 30 s default is for single scenarios).
  }, 120_000);

  it('counts replayed messages against the plan without refusing them', async () => {
    const db = await fallbackDb(newDir());
    const customer = await shop(db);
    await db.refreshCustomerCopy();
    await pg.db.admin.query(`update plan_limits set messages = 3 where plan = 'free'`);
    try {
      await proxy.cut();
      const sessionId = `quota-${crypto.randomBytes(6).toString('hex')}`;
      for (let i = 0; i < 5; i++) await send(db, customer, sessionId, `q-${i}`); // the fallback's copy allows 1,000
      await proxy.restore();
      expect(await db.recover()).toBe(true);
      expect(await db.status()).toMatchObject({ journalPending: 0, journalFailed: 0 });
      expect((await onPrimary(sessionId)).visitor).toHaveLength(5);
      const [usage] = await pg.db.admin.query<{ messages: number }>('select messages from usage where customer_id = $1', [customer.id]);
      expect(usage?.messages).toBe(5); // counted past the limit of 3; new sends are refused from now on
      await expect(send(db, customer, sessionId, 'q-5')).rejects.toMatchObject({ code: 'OMUSE' });
    } finally {
      await pg.db.admin.query(`update plan_limits set messages = 1000 where plan = 'free'`);
    }
  });

  it('replays a journaled write still running on the fallback when the replay reaches its last stretch', async () => {
    // The fallback's journal_exec for one write is held until the replay has read an empty journal
    // (its first pass is done), so the write lands in the journal while recover() waits at its
    // gate: only the final replay (after in-flight calls finish) can hand it to the primary.
    let armed = false;
    let holding: Promise<void> | undefined;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let replayReadEmpty = false;
    const dir = newDir();
    const openFallback = async (): Promise<Db> => {
      const real = await openMigratedPglite(dir);
      const rpc = async <T,>(fn: string, args?: object): Promise<T> => {
        if (fn === 'journal_exec' && armed && !holding) {
          holding = held;
          await held;
        }
        const result = await real.rpc<T>(fn, args);
        if (fn === 'journal_pending' && holding && Array.isArray(result) && result.length === 0 && !replayReadEmpty) {
          replayReadEmpty = true;
          setTimeout(release, 50); // after the first pass returns and the gate closes
        }
        return result;
      };
      return new Proxy(real, { get: (target, key) => (key === 'rpc' ? rpc : Reflect.get(target, key, target)) });
    };
    const db = await fallbackDb(dir, undefined, openFallback);
    const customer = await shop(db);
    await db.refreshCustomerCopy();
    const sessionId = `last-${crypto.randomBytes(6).toString('hex')}`;

    await proxy.cut();
    await send(db, customer, sessionId, 'before');
    expect((await db.status()).fallbackActive).toBe(true);
    armed = true;
    const late = send(db, customer, sessionId, 'in-flight');
    await expect.poll(() => holding !== undefined).toBe(true);

    await proxy.restore();
    expect(await db.recover()).toBe(true);
    await late;
    expect(replayReadEmpty).toBe(true); // the write was held past the first pass
    expect(await db.status()).toMatchObject({ fallbackActive: false, journalPending: 0, journalFailed: 0 });
    expect((await onPrimary(sessionId)).queue).toEqual(['before', 'in-flight']);
  });

  it('resumes an interrupted replay after a restart, without duplicates', async () => {
    const dir = newDir();
    // The replay will die part-way: the 3rd replayed batch reaches the primary (and commits), but
    // the connection breaks before its answer arrives (so it stays pending), then the process is gone.
    let armed = false;
    let replayed = 0;
    const real = new PostgresDb(proxiedUrl, { connectTimeoutMs: 500, fetchTypes: false });
    const flaky: Db = {
      kind: 'postgres',
      ping: () => real.ping(),
      close: () => real.close(),
      async rpc<T>(fn: string, args?: object) {
        const result = await real.rpc<T>(fn, args);
        if (armed && fn === 'journal_apply' && ++replayed === 3) {
          await proxy.cut();
          throw new DbError(SqlState.connectionFailure, 'connection lost before the answer');
        }
        return result;
      },
    };
    const first = await fallbackDb(dir, flaky);
    const customer = await shop(first);
    await first.refreshCustomerCopy();
    await proxy.cut();
    const sessionId = `restart-${crypto.randomBytes(6).toString('hex')}`;
    const ids = Array.from({ length: 20 }, (_, i) => `r-${i}`);
    for (const id of ids) await send(first, customer, sessionId, id);
    await proxy.restore();
    armed = true;
    expect(await first.recover()).toBe(false);
    const pendingAfterCrash = (await first.status()).journalPending;
    expect(pendingAfterCrash).toBeGreaterThan(0);
    expect(pendingAfterCrash).toBeLessThan(40);
    await first.close();
    open.splice(open.indexOf(first), 1);

    await proxy.restore();
    const second = await fallbackDb(dir); // a restart: replays before serving from the primary
    expect(await second.status()).toMatchObject({ fallbackActive: false, journalPending: 0 });
    const held = await onPrimary(sessionId);
    expect(held.visitor).toEqual([...ids].sort());
    expect(held.bot).toEqual(ids.map((id) => `reply:${id}`).sort());
  });

  it('sets aside a write the primary refuses and replays the rest', async () => {
    const db = await fallbackDb(newDir());
    await proxy.cut();
    const clash = crypto.randomUUID();
    const fine = crypto.randomUUID();
    await db.rpc('customers_create', { id: clash, name: 'Clash', publicKey: `pk_${'c'.repeat(32)}` });
    await db.rpc('customers_create', { id: fine, name: 'Fine', publicKey: `pk_${'f'.repeat(32)}` });
    // Meanwhile another customer took that widget key on the primary.
    await pg.db.rpc('customers_create', { id: crypto.randomUUID(), name: 'First', publicKey: `pk_${'c'.repeat(32)}` });
    await proxy.restore();

    expect(await db.recover()).toBe(true);
    expect(await db.status()).toMatchObject({ fallbackActive: false, journalPending: 0, journalFailed: 1 });
    const journal = await db.journal();
    expect(journal.failures).toEqual([{ seq: expect.any(Number), fn: 'customers_create', error: expect.stringMatching(/^23505: /) }]);
    expect(await pg.db.rpc('customers_get', { id: fine })).toMatchObject({ name: 'Fine' });
    expect(await pg.db.rpc('customers_get', { id: clash })).toBeNull();
  });

  /** A primary whose rpc calls are recorded by function name. */
  function countingPrimary(calls: string[]): Db {
    const real = new PostgresDb(proxiedUrl, { connectTimeoutMs: 500, fetchTypes: false });
    return {
      kind: 'postgres',
      ping: () => real.ping(),
      close: () => real.close(),
      rpc<T>(fn: string, args?: object) {
        calls.push(fn);
        return real.rpc<T>(fn, args);
      },
    };
  }

  /** An outage during which `count` messages are sent on one session; returns their ids. */
  async function outageWithMessages(db: FallbackDb, count: number): Promise<{ sessionId: string; ids: string[] }> {
    const customer = await shop(db);
    await db.refreshCustomerCopy();
    await proxy.cut();
    const sessionId = `batch-${crypto.randomBytes(6).toString('hex')}`;
    const ids = Array.from({ length: count }, (_, i) => `b-${i}`);
    for (const id of ids) await send(db, customer, sessionId, id);
    await proxy.restore();
    return { sessionId, ids };
  }

  it('replays a batch per round trip, and waits out a lock held on the primary instead of setting writes aside', async () => {
    // Replays give up waiting for a lock after 200 ms (new connections of this database).
    await pg.db.admin.exec(`alter database ${pg.database.name} set lock_timeout = '200ms'`);
    const holder = postgres(pg.database.url, { max: 1, onnotice: () => {} });
    try {
      const calls: string[] = [];
      const db = await fallbackDb(newDir(), countingPrimary(calls));
      const { sessionId, ids } = await outageWithMessages(db, 12);
      const pending = (await db.status()).journalPending;
      expect(pending).toBeGreaterThanOrEqual(ids.length);

      // A long transaction on the primary holds the queue table: every replayed enqueue times out.
      const lock = await holder.reserve();
      await lock`begin`;
      await lock`lock table public.message_queue in access exclusive mode`;
      expect(await db.recover()).toBe(false);
      expect(await db.status()).toMatchObject({ fallbackActive: true, journalPending: pending, journalFailed: 0 });
      expect((await db.status()).lastError).toMatch(/^55P03: /);
      await lock`rollback`;
      lock.release();

      calls.length = 0;
      expect(await db.recover()).toBe(true);
      expect(await db.status()).toMatchObject({ fallbackActive: false, journalPending: 0, journalFailed: 0 });
      // One call per batch of 5, no call per entry.
      expect(calls.filter((fn) => fn === 'journal_apply')).toHaveLength(Math.ceil(pending / 5));
      expect(calls.filter((fn) => fn !== 'journal_apply' && fn !== 'customers_list')).toEqual([]);
      const held = await onPrimary(sessionId);
      expect(held.visitor).toEqual([...ids].sort());
      expect(held.queue).toEqual([...ids].sort());
    } finally {
      await holder.end();
      await pg.db.admin.exec(`alter database ${pg.database.name} reset lock_timeout`);
    }
  });

  it('replays one entry per call when the primary refuses the batch call', async () => {
    const db = await fallbackDb(newDir());
    const { sessionId, ids } = await outageWithMessages(db, 6);
    // A primary without journal_apply (say, migrated before it existed).
    await pg.db.admin.exec(`alter function public.journal_apply(jsonb) rename to journal_apply_hidden`);
    try {
      expect(await db.recover()).toBe(true);
    } finally {
      await pg.db.admin.exec(`alter function public.journal_apply_hidden(jsonb) rename to journal_apply`);
    }
    expect(await db.status()).toMatchObject({ fallbackActive: false, journalPending: 0, journalFailed: 0 });
    expect((await onPrimary(sessionId)).visitor).toEqual([...ids].sort());
  });

  it('passes SQL errors through without switching, and its journal detects tampering', async () => {
    const dir = newDir();
    const db = await fallbackDb(dir);
    await expect(db.rpc('customers_create', { name: 'x', plan: 'gold' })).rejects.toMatchObject({ code: '23514' });
    expect((await db.status()).fallbackActive).toBe(false);

    await proxy.cut();
    await createCustomer(db, { name: 'one' });
    await createCustomer(db, { name: 'two' });
    const generation = db.generation;
    const embedded = await PgliteDb.open(dir); // this process's shared instance
    try {
      expect(await embedded.rpc('journal_verify')).toEqual({ ok: true, entries: 2, brokenAt: null });
      await embedded.admin.query(`update private.outage_journal set args = '{"name":"three"}' where seq = 1`);
      expect(await embedded.rpc('journal_verify')).toEqual({ ok: false, entries: 0, brokenAt: 1 });
    } finally {
      await embedded.close();
    }
    await proxy.restore();
    await db.recover();
    expect(db.generation).toBe(generation + 1);
  });
});
