/**
 * The message queue's guarantees on real PostgreSQL and PGlite: idempotent batch enqueue, claims
 * with a visibility timeout that expire, exponential backoff and dead letters, atomic delivery into
 * the conversation, session recovery; and on PostgreSQL, concurrent claimers and concurrent
 * duplicate enqueues.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Responder } from '@/lib/queue/responder';
import type { Db, SqlAdmin } from '@/lib/db/types';
import {
  claimMessages,
  completeMessages,
  deliverMessages,
  enqueueInputSchema,
  enqueueMessages,
  failMessages,
  getSession,
  queueStats,
  retryMessages,
} from '@/lib/queue';
import { processMessages } from '@/lib/queue/processor';
import { migratedPostgres, sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';

const session = () => `sess_${crypto.randomBytes(8).toString('hex')}`;
const texts = (n: number, prefix = 'm') =>
  Array.from({ length: n }, (_, i) => ({ clientMessageId: `${prefix}-${i}`, data: { text: `message ${i}` } }));

async function newCustomer(db: Db): Promise<string> {
  const { customer } = await db.rpc<{ customer: { id: string } }>('customers_create', { name: `Queue ${crypto.randomUUID()}` });
  return customer.id;
}

/** Make every claim or backoff of `ids` due now (instead of waiting for it). */
async function makeDue(admin: SqlAdmin, ids: string[]): Promise<void> {
  await admin.query(`update message_queue set available_at = now() - interval '1 second' where id = any($1::uuid[])`, [ids]);
}

describe.each(sqlBackendKinds)('message queue on %s', (kind) => {
  let backend: SqlBackend;
  let db: Db;
  let admin: SqlAdmin;
  let customerId: string;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    db = backend.db;
    admin = backend.db.admin;
    customerId = await newCustomer(db);
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('enqueues a batch in order, idempotently on clientMessageId', async () => {
    const sessionId = session();
    const first = await enqueueMessages(db, { customerId, sessionId, messages: texts(3) });
    expect(first.messages.map((m) => [m.clientMessageId, m.status, m.created])).toEqual([
      ['m-0', 'pending', true],
      ['m-1', 'pending', true],
      ['m-2', 'pending', true],
    ]);
    const positions = first.messages.map((m) => m.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    // The client retries after an ambiguous timeout, plus one new message and a duplicate within the batch.
    const again = await enqueueMessages(db, {
      customerId,
      sessionId,
      messages: [...texts(3), { clientMessageId: 'm-3', data: { text: 'new' } }, { clientMessageId: 'm-3', data: { text: 'dup' } }],
    });
    expect(again.conversationId).toBe(first.conversationId);
    expect(again.messages.map((m) => [m.clientMessageId, m.created])).toEqual([
      ['m-0', false],
      ['m-1', false],
      ['m-2', false],
      ['m-3', true],
    ]);
    expect(again.messages.slice(0, 3).map((m) => m.id)).toEqual(first.messages.map((m) => m.id));
    const [stored] = await admin.query<{ text: string }>(`select message_data ->> 'text' as text from message_queue where id = $1`, [
      again.messages[3]!.id,
    ]);
    expect(stored!.text).toBe('new'); // the first occurrence in the batch wins
    const [count] = await admin.query<{ n: number }>('select count(*)::int as n from message_queue where session_id = $1', [sessionId]);
    expect(count!.n).toBe(4);
  });

  it("keeps a session's messages side by side in the primary key, ids derived from the key alone", async () => {
    const [a, b] = [session(), session()];
    const ids: string[] = [];
    // Two sessions' batches interleaved in time: random ids would interleave them in the index.
    for (let round = 0; round < 3; round++) {
      for (const sessionId of [a, b]) {
        const { messages } = await enqueueMessages(db, { customerId, sessionId, messages: texts(10, `k${round}`) });
        ids.push(...messages.map((m) => m.id));
      }
    }
    const inKeyOrder = await admin.query<{ session_id: string }>(
      'select session_id from message_queue where id = any($1::uuid[]) order by id',
      [ids],
    );
    const runs = inKeyOrder.map((r) => r.session_id).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    expect(runs).toHaveLength(2);
    // The same key names the same row on any backend (the outage journal's replay relies on it).
    const [derived] = await admin.query<{ id: string }>('select private.queue_message_id($1, $2, $3) as id', [customerId, a, 'k0-0']);
    expect(derived!.id).toBe(ids[0]);
  });

  it('recognises a message stored under an id of the former scheme when it is enqueued again', async () => {
    const sessionId = session();
    const [old] = await admin.query<{ id: string }>(
      `insert into message_queue (id, customer_id, session_id, client_message_id, message_data, status, processed_at, expires_at)
       values (md5(format('queue:%s:%s:%s', $1::uuid, $2::text, 'old-0'))::uuid, $1, $2, 'old-0', '{"text":"hi"}', 'completed', now(), now() + interval '24 hours')
       returning id`,
      [customerId, sessionId],
    );
    const again = await enqueueMessages(db, { customerId, sessionId, messages: [{ clientMessageId: 'old-0', data: { text: 'hi' } }] });
    expect(again.messages).toMatchObject([{ id: old!.id, status: 'completed', created: false }]);
    expect(await claimMessages(db, { ids: [old!.id] })).toEqual([]);
  });

  it('claims in position order, hides claimed messages, and completes in the next claim', async () => {
    const sessionId = session();
    const { messages } = await enqueueMessages(db, { customerId, sessionId, messages: texts(5, 'c') });
    const ids = messages.map((m) => m.id);
    const firstTwo = await claimMessages(db, { ids, limit: 2 });
    expect(firstTwo.map((m) => m.clientMessageId)).toEqual(['c-0', 'c-1']);
    const locked = await admin.query<{ status: string; locked: boolean }>(
      `select status, locked_until > now() as locked from message_queue where id = any($1::uuid[])`,
      [firstTwo.map((m) => m.id)],
    );
    expect(locked).toEqual([
      { status: 'processing', locked: true },
      { status: 'processing', locked: true },
    ]);

    const next = await claimMessages(db, { ids, limit: 10, complete: firstTwo.map((m) => m.id) });
    expect(next.map((m) => m.clientMessageId)).toEqual(['c-2', 'c-3', 'c-4']);
    expect(await claimMessages(db, { ids })).toEqual([]);
    const [done] = await admin.query<{ n: number }>(
      `select count(*)::int as n from message_queue where id = any($1::uuid[]) and status = 'completed'`,
      [ids],
    );
    expect(done!.n).toBe(2);
    expect(await completeMessages(db, next.map((m) => m.id))).toBe(3);
    expect(await completeMessages(db, next.map((m) => m.id))).toBe(0);
  });

  it('claims freshly enqueued messages with HOT updates, inserting into no index', async () => {
    // A claim changes no indexed column; it stays HOT (the new row version on the same page, no
    // index entries) only while the page has room for it: message_queue's fillfactor.
    const { messages } = await enqueueMessages(db, { customerId, sessionId: session(), messages: texts(100, 'hot') });
    const [counts] = await admin.query<{ claimed: number; hot: number }>(
      // The counter before and after the claim, in one statement (PGlite keeps counting across
      // transactions until its statistics are flushed).
      `with b as materialized (select pg_stat_get_xact_tuples_hot_updated('public.message_queue'::regclass) as hot),
            c as materialized (select public.queue_claim(jsonb_build_object('ids', $1::text::jsonb, 'limit', 100)) as r, b.hot from b)
       select jsonb_array_length(c.r) as claimed,
              (pg_stat_get_xact_tuples_hot_updated('public.message_queue'::regclass) - c.hot)::int as hot
         from c`,
      [JSON.stringify(messages.map((m) => m.id))],
    );
    expect(counts).toEqual({ claimed: 100, hot: 100 });
  });

  it('claims a message again when its claim expires, counting the lost attempt', async () => {
    const { messages } = await enqueueMessages(db, { customerId, sessionId: session(), messages: texts(1, 'x') });
    const ids = messages.map((m) => m.id);
    const [claimed] = await claimMessages(db, { ids, visibilityTimeoutSeconds: 60 });
    expect(await claimMessages(db, { ids })).toEqual([]);
    await makeDue(admin, ids); // the worker died; its 60 s are up
    const [reclaimed] = await claimMessages(db, { ids });
    expect(reclaimed).toMatchObject({ id: claimed!.id, retryCount: 1 });
    const [row] = await admin.query<{ status: string; last_error: string }>(
      'select status, last_error from message_queue where id = $1',
      [claimed!.id],
    );
    expect(row).toEqual({ status: 'processing', last_error: expect.stringMatching(/claim expired/) });
  });

  it('backs off exponentially on failure, dead-letters after 5 attempts, and retries on request', async () => {
    const { messages } = await enqueueMessages(db, { customerId, sessionId: session(), messages: texts(1, 'f') });
    const id = messages[0]!.id;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      const [claimed] = await claimMessages(db, { ids: [id] });
      expect(claimed?.id).toBe(id);
      const [failed] = await failMessages(db, [{ id, error: `boom ${attempt}` }]);
      expect(failed).toMatchObject({ retryCount: attempt, lastError: `boom ${attempt}` });
      if (attempt < 5) {
        expect(failed!.status).toBe('pending');
        delays.push(Math.round((Date.parse(failed!.availableAt) - Date.now()) / 1000));
        expect(await claimMessages(db, { ids: [id] })).toEqual([]); // not before its backoff
        await makeDue(admin, [id]);
      } else {
        expect(failed!.status).toBe('failed');
      }
    }
    expect(delays).toEqual([1, 2, 4, 8]);
    expect(await claimMessages(db, { ids: [id] })).toEqual([]);

    const [retried] = await retryMessages(db, [id], customerId);
    expect(retried).toMatchObject({ status: 'pending', retryCount: 0 });
    expect((await claimMessages(db, { ids: [id] }))[0]?.id).toBe(id);
    // Retrying a message that is not dead is a no-op.
    expect(await retryMessages(db, [id], customerId)).toEqual([]);

    // So is retrying another tenant's dead letter in this customer's name: it stays dead until its
    // own customer (or the operator, without a customer) retries it.
    const other = await newCustomer(db);
    const theirs = (await enqueueMessages(db, { customerId: other, sessionId: session(), messages: texts(1, 'theirs') })).messages[0]!.id;
    for (let attempt = 1; attempt <= 5; attempt++) {
      await makeDue(admin, [theirs]);
      expect((await claimMessages(db, { ids: [theirs] }))[0]?.id).toBe(theirs);
      await failMessages(db, [{ id: theirs, error: `boom ${attempt}` }]);
    }
    const deadStatus = async () =>
      (await admin.query<{ status: string }>('select status from message_queue where id = $1', [theirs]))[0]?.status;
    expect(await deadStatus()).toBe('failed');
    expect(await retryMessages(db, [theirs], customerId)).toEqual([]);
    expect(await deadStatus()).toBe('failed');
    expect(await retryMessages(db, [theirs], other)).toMatchObject([{ id: theirs, customerId: other, status: 'pending' }]);
  });

  it('dead-letters a message whose claims keep expiring', async () => {
    const { messages } = await enqueueMessages(db, { customerId, sessionId: session(), messages: texts(1, 'poison') });
    const id = messages[0]!.id;
    for (let i = 0; i < 5; i++) {
      expect((await claimMessages(db, { ids: [id] })).length).toBe(1);
      await makeDue(admin, [id]);
    }
    expect(await claimMessages(db, { ids: [id] })).toEqual([]);
    const [row] = await admin.query<{ status: string; retry_count: number; last_error: string }>(
      'select status, retry_count, last_error from message_queue where id = $1',
      [id],
    );
    expect(row).toEqual({ status: 'failed', retry_count: 5, last_error: expect.stringMatching(/after the last attempt/) });
  });

  it('delivers into the conversation atomically and idempotently, with replies after the message', async () => {
    const sessionId = session();
    const { messages, conversationId } = await enqueueMessages(db, { customerId, sessionId, messages: texts(2, 'd') });
    const claimed = await claimMessages(db, { ids: messages.map((m) => m.id) });
    const items = [
      { id: claimed[0]!.id, reply: { content: 'Hello! How can I help?' }, needsStaff: false },
      { id: claimed[1]!.id, needsStaff: true },
    ];
    expect((await deliverMessages(db, items)).delivered.sort()).toEqual(claimed.map((m) => m.id).sort());
    expect((await deliverMessages(db, items)).delivered.length).toBe(2); // a repeat adds nothing

    const state = await getSession(db, { customerId, sessionId });
    expect(state.conversationId).toBe(conversationId);
    expect(state.conversationStatus).toBe('needs_staff');
    expect(state.outbox).toEqual([]);
    expect(state.messages.map((m) => [m.role, m.content, m.clientMessageId])).toEqual([
      ['visitor', 'message 0', 'd-0'],
      ['visitor', 'message 1', 'd-1'],
      ['bot', 'Hello! How can I help?', 'reply:d-0'],
    ]);
    const after = await getSession(db, { customerId, sessionId, afterPosition: state.messages[1]!.position });
    expect(after.messages.map((m) => m.clientMessageId)).toEqual(['reply:d-0']);
  });

  it('rebuilds a session: the outbox holds what is not yet delivered', async () => {
    const sessionId = session();
    const { messages } = await enqueueMessages(db, { customerId, sessionId, messages: texts(3, 'r') });
    const [first] = await claimMessages(db, { ids: [messages[0]!.id] });
    await deliverMessages(db, [{ id: first!.id }]);
    const [second] = await claimMessages(db, { ids: [messages[1]!.id] });
    await failMessages(db, [{ id: second!.id, error: 'responder down' }], { maxRetries: 1 });

    const state = await getSession(db, { customerId, sessionId });
    expect(state.messages.map((m) => m.clientMessageId)).toEqual(['r-0']);
    expect(state.outbox.map((m) => [m.clientMessageId, m.status])).toEqual([
      ['r-1', 'failed'],
      ['r-2', 'pending'],
    ]);
    const unknown = await getSession(db, { customerId, sessionId: session() });
    expect(unknown).toEqual({ conversationId: null, conversationStatus: null, messages: [], outbox: [] });
  });

  it('processes with a responder: answered messages are delivered, failures back off', async () => {
    const sessionId = session();
    const { messages } = await enqueueMessages(db, { customerId, sessionId, messages: texts(4, 'p') });
    const responder: Responder = {
      async respond(message) {
        if (message.clientMessageId === 'p-2') throw new Error('model unavailable');
        return { reply: { content: `re: ${message.data.text}` }, needsStaff: false };
      },
    };
    const result = await processMessages(db, responder, { ids: messages.map((m) => m.id) });
    expect(result.claimed).toBe(4);
    expect(result.delivered).toHaveLength(3);
    expect(result.failed).toEqual([{ id: messages[2]!.id, error: expect.stringContaining('model unavailable') }]);
    const state = await getSession(db, { customerId, sessionId });
    expect(state.messages.filter((m) => m.role === 'bot').map((m) => m.content)).toEqual([
      're: message 0',
      're: message 1',
      're: message 3',
    ]);
    expect(state.outbox.map((m) => [m.clientMessageId, m.status, m.retryCount])).toEqual([['p-2', 'pending', 1]]);
  });

  it('counts queue depth by status, per customer', async () => {
    const other = await newCustomer(db);
    await enqueueMessages(db, { customerId: other, sessionId: session(), messages: texts(2, 's') });
    expect(await queueStats(db, other)).toEqual({ pending: 2, processing: 0, completed: 0, failed: 0 });
  });

  it('refuses malformed input with the field named, writing nothing', async () => {
    const sessionId = session();
    const cases: [unknown, RegExp][] = [
      [{ customerId, sessionId, messages: [] }, /messages: must not be empty/],
      [{ customerId, sessionId, messages: [{ clientMessageId: 1, data: {} }] }, /clientMessageId/],
      [{ customerId, sessionId }, /messages: required array/],
      [{ sessionId, messages: texts(1) }, /customerId: required string/],
    ];
    for (const [args, message] of cases) {
      await expect(db.rpc('queue_enqueue', args as object)).rejects.toMatchObject({ code: '22023', message: expect.stringMatching(message) });
    }
    const [count] = await admin.query<{ n: number }>('select count(*)::int as n from message_queue where session_id = $1', [sessionId]);
    expect(count!.n).toBe(0);

    const invalid = enqueueInputSchema.safeParse({
      customerId,
      sessionId: 'short',
      messages: [{ clientMessageId: 'ok', data: { text: '   ' } }],
    });
    expect(invalid.success).toBe(false);
    expect(invalid.error?.issues.map((i) => i.path.join('.'))).toEqual(['sessionId', 'messages.0.data.text']);
  });
});

describe('message queue on postgres, concurrently', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let customerId: string;

  beforeAll(async () => {
    pg = await migratedPostgres();
    customerId = await newCustomer(pg.db);
  });
  afterAll(async () => {
    await pg?.dispose();
  });

  it('never gives one message to two concurrent claimers', async () => {
    const sessionId = session();
    const total = 400;
    for (let i = 0; i < total; i += 100) {
      await enqueueMessages(pg.db, { customerId, sessionId, messages: texts(100, `k${i}`) });
    }
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (;;) {
          const batch = await claimMessages(pg.db, { limit: 7 });
          if (batch.length === 0) return;
          seen.push(...batch.map((m) => m.id));
          await completeMessages(pg.db, batch.map((m) => m.id));
        }
      }),
    );
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
  });

  it('skips messages another transaction holds locked instead of waiting for it', async () => {
    const { messages } = await enqueueMessages(pg.db, { customerId, sessionId: session(), messages: texts(3, 'locked') });
    const ids = messages.map((m) => m.id);
    let claim: Promise<string[]> | undefined;
    await pg.db.admin.transaction(async (tx) => {
      // Another worker's transaction (a claim or delivery in progress) holds the first row.
      await tx.query('select id from message_queue where id = $1 for update', [ids[0]]);
      claim = claimMessages(pg.db, { ids }).then((batch) => batch.map((m) => m.id));
      const waited = new Promise<'blocked'>((resolve) => setTimeout(() => resolve('blocked'), 3000).unref());
      // Inside the transaction: a claim that waits for the lock cannot return before it ends.
      expect(await Promise.race([claim, waited])).toEqual(ids.slice(1));
    });
    await claim;
  });

  it('stores one row for duplicate enqueues racing each other', async () => {
    const sessionId = session();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => enqueueMessages(pg.db, { customerId, sessionId, messages: texts(20, 'race') })),
    );
    const ids = results.map((r) => r.messages.map((m) => m.id).join());
    expect(new Set(ids).size).toBe(1);
    expect(results.flatMap((r) => r.messages).filter((m) => m.created)).toHaveLength(20);
    expect(new Set(results.map((r) => r.conversationId)).size).toBe(1);
    const [count] = await pg.db.admin.query<{ n: number }>('select count(*)::int as n from message_queue where session_id = $1', [
      sessionId,
    ]);
    expect(count!.n).toBe(20);
  });
});
