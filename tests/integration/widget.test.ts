/**
 * The widget API's domain functions on PGlite and PostgreSQL: authorisation by public key and the
 * embedding page's origin, idempotent sends with inline processing, session state for polling.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Responder } from '@/lib/queue/responder';
import { replyToConversation } from '@/lib/conversations';
import { createCustomer, type Customer } from '@/lib/customers';
import type { DbError } from '@/lib/db/errors';
import type { AdminCapable, Db } from '@/lib/db/types';
import { processMessages } from '@/lib/queue/processor';
import { HttpError, errorResponse, parseWith, readJson } from '@/lib/http';
import { authorizeWidget, embeddingOrigin, sendMessages, sendSchema, sessionState } from '@/lib/widget';
import { MAX_INLINE_PER_REQUEST } from '@/lib/widget/limits';
import { sqlBackendKinds, sqlBackends } from '../support/databases';

const APP = 'https://chat.omniops.test';
const SHOP = 'https://shop.example';
const fromIframe = (host: string | null) => ({ origin: APP, hostOrigin: host, appOrigin: APP });
const fromPage = (origin: string | null) => ({ origin, hostOrigin: null, appOrigin: APP });

const echo: Responder = {
  async respond(message) {
    return { reply: { content: `You said: ${message.data.text}` }, needsStaff: false };
  },
};

describe.each(sqlBackendKinds)('widget API on %s', (kind) => {
  let db: Db;
  let dispose: () => Promise<void>;
  let customer: Customer;

  beforeAll(async () => {
    ({ db, dispose } = await sqlBackends[kind]());
    ({ customer } = await createCustomer(db, { name: 'Shop', allowedOrigins: [SHOP, 'http://localhost:3000'] }));
  });
  afterAll(async () => {
    await dispose?.();
  });

  it('knows which origin embeds the widget', () => {
    expect(embeddingOrigin(fromIframe(SHOP))).toBe(SHOP);
    expect(embeddingOrigin(fromPage(SHOP))).toBe(SHOP);
    expect(embeddingOrigin({ origin: null, hostOrigin: SHOP, appOrigin: APP })).toBe(SHOP);
    // One of our own pages (the demo page's loader) embeds it in our own origin.
    expect(embeddingOrigin({ origin: APP, hostOrigin: null, appOrigin: APP })).toBe(APP);
    // A cross-origin caller cannot claim another host with the header.
    expect(embeddingOrigin({ origin: 'https://evil.example', hostOrigin: SHOP, appOrigin: APP })).toBe('https://evil.example');
  });

  it('authorises only allowed origins of an existing key', async () => {
    await expect(authorizeWidget(db, customer.publicKey, fromIframe(SHOP))).resolves.toMatchObject({ id: customer.id });
    await expect(authorizeWidget(db, customer.publicKey, fromPage('http://localhost:3000'))).resolves.toMatchObject({
      id: customer.id,
    });
    for (const req of [fromIframe('https://evil.example'), fromPage('https://shop.example.evil.test'), fromIframe(null)]) {
      await expect(authorizeWidget(db, customer.publicKey, req)).rejects.toMatchObject({ status: 403, code: 'origin_not_allowed' });
    }
    await expect(authorizeWidget(db, `pk_${'0'.repeat(32)}`, fromIframe(SHOP))).rejects.toMatchObject({
      status: 403,
      code: 'unknown_key',
    });
  });

  it('sends idempotently, processes inline, and serves replies by position', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    const input = parseWith(sendSchema, {
      key: customer.publicKey,
      sessionId,
      messages: [
        { clientMessageId: 'a', text: 'Do you ship to Norway?' },
        { clientMessageId: 'b', text: 'And how long does it take?' },
      ],
    });
    const first = await sendMessages(db, customer, input, echo);
    expect(first.messages.map((m) => [m.clientMessageId, m.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
    // The same request again (the client never saw the answer): nothing new.
    const again = await sendMessages(db, customer, input, echo);
    expect(again.messages.map((m) => m.position)).toEqual(first.messages.map((m) => m.position));

    const state = await sessionState(db, customer, sessionId, 0);
    expect(state.messages.map((m) => [m.role, m.content])).toEqual([
      ['visitor', 'Do you ship to Norway?'],
      ['visitor', 'And how long does it take?'],
      ['bot', 'You said: Do you ship to Norway?'],
      ['bot', 'You said: And how long does it take?'],
    ]);
    expect(state.outbox).toEqual([]);
    const later = await sessionState(db, customer, sessionId, state.messages[1]!.position);
    expect(later.messages).toHaveLength(2);
  });

  it('processes a whole batch of 100 inline', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    const messages = Array.from({ length: 100 }, (_, i) => ({ clientMessageId: `b-${i}`, text: `message ${i}` }));
    const sent = await sendMessages(db, customer, parseWith(sendSchema, { key: customer.publicKey, sessionId, messages }), echo);
    expect(sent.messages.filter((m) => m.status === 'completed')).toHaveLength(100);
    expect((await sessionState(db, customer, sessionId, 0)).outbox).toEqual([]);
  });

  it('answers inline only as many new messages as it is allowed; the rest wait for the worker', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    const messages = Array.from({ length: MAX_INLINE_PER_REQUEST + 2 }, (_, i) => ({ clientMessageId: `i-${i}`, text: `message ${i}` }));
    const input = parseWith(sendSchema, { key: customer.publicKey, sessionId, messages });
    const sent = await sendMessages(db, customer, input, echo, { inline: MAX_INLINE_PER_REQUEST });
    expect(sent.messages.map((m) => m.status)).toEqual([...Array(MAX_INLINE_PER_REQUEST).fill('completed'), 'pending', 'pending']);
    expect((await sessionState(db, customer, sessionId, 0)).outbox.map((m) => m.clientMessageId)).toEqual([
      `i-${MAX_INLINE_PER_REQUEST}`,
      `i-${MAX_INLINE_PER_REQUEST + 1}`,
    ]);
  });

  it('delivers a staff reply to the session, once, and reopens a conversation waiting for staff', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    const handoff: Responder = { respond: async () => ({ needsStaff: true }) };
    const { conversationId } = await sendMessages(
      db,
      customer,
      parseWith(sendSchema, { key: customer.publicKey, sessionId, messages: [{ clientMessageId: 'q', text: 'Is anyone there?' }] }),
      handoff,
    );
    expect((await sessionState(db, customer, sessionId, 0)).conversationStatus).toBe('needs_staff');
    const reply = { conversationId, content: 'Yes — how can I help?', clientMessageId: 'staff-1' };
    const first = await replyToConversation(db, reply);
    expect(first).toMatchObject({ created: true, message: { role: 'staff', content: 'Yes — how can I help?' } });
    expect(await replyToConversation(db, reply)).toEqual({ created: false, message: first.message });

    const state = await sessionState(db, customer, sessionId, 0);
    expect(state.conversationStatus).toBe('open');
    expect(state.messages.map((m) => [m.role, m.content])).toEqual([
      ['visitor', 'Is anyone there?'],
      ['staff', 'Yes — how can I help?'],
    ]);
    const other = await createCustomer(db, { name: 'Other' });
    await expect(replyToConversation(db, { ...reply, customerId: other.customer.id })).rejects.toMatchObject({ code: 'P0002' });
  });

  it('refuses a batch past the monthly message limit, whole, with a 429 until the month resets', async () => {
    const { customer: limited } = await createCustomer(db, { name: 'Small shop', allowedOrigins: [SHOP], plan: 'free' });
    // This test's own database: make the free plan tiny.
    await (db as Db & AdminCapable).admin.query(`update plan_limits set messages = 3 where plan = 'free'`);
    try {
      const send = (sessionId: string, ids: string[]) =>
        sendMessages(
          db,
          limited,
          parseWith(sendSchema, { key: limited.publicKey, sessionId, messages: ids.map((id) => ({ clientMessageId: id, text: id })) }),
          echo,
        );
      await send('limited-session-1', ['a', 'b']);
      const refusal = await send('limited-session-1', ['c', 'd']).catch((error: unknown) => error as DbError);
      expect(refusal).toMatchObject({ code: 'OMUSE', message: expect.stringMatching(/^monthly message limit reached: 2 of 3 used on the free plan \(2 more requested\); resets \d{4}-\d\d-01T00:00:00Z$/) });
      // Nothing of the refused batch was stored; a repeat of stored messages is not counted again.
      expect((await sessionState(db, limited, 'limited-session-1', 0)).messages.filter((m) => m.role === 'visitor')).toHaveLength(2);
      await expect(send('limited-session-1', ['a', 'b'])).resolves.toBeDefined();
      await expect(send('limited-session-1', ['c'])).resolves.toBeDefined();

      const response = errorResponse(refusal);
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await response.json()).toEqual({ error: { code: 'plan_limit_reached', message: (refusal as DbError).message } });
    } finally {
      await (db as Db & AdminCapable).admin.query(`update plan_limits set messages = 1000 where plan = 'free'`);
    }
  });

  it('keeps messages queued when the responder fails, and reports them in the outbox', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    const broken: Responder = {
      async respond() {
        throw new Error('upstream down');
      },
    };
    const sent = await sendMessages(
      db,
      customer,
      parseWith(sendSchema, { key: customer.publicKey, sessionId, messages: [{ clientMessageId: 'x', text: 'hello?' }] }),
      broken,
    );
    expect(sent.messages[0]!.status).toBe('pending');
    const state = await sessionState(db, customer, sessionId, 0);
    // The failure's text is for operators (the dashboard), not anonymous pollers.
    expect(state.outbox).toEqual([{ clientMessageId: 'x', status: 'pending', position: expect.any(Number) }]);
    expect(JSON.stringify(state)).not.toContain('upstream down');
  });

  it('hands the responder the passages found with the claim, as many as it asks for', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    await (db as Db & AdminCapable).admin.query(
      `insert into scraped_pages (customer_id, url, title, content, content_hash)
       values ($1, 'https://shop.example/returns', 'Returns', 'Returns are free within thirty days of delivery.', 'r1'),
              ($1, 'https://shop.example/refunds', 'Refunds', 'Refunds for returns reach your card within five days.', 'r2')`,
      [customer.id],
    );
    const seen: unknown[] = [];
    const reading = (passages: number): Responder => ({
      passages,
      async respond(message) {
        seen.push(message.passages?.map((p) => p.url));
        return { reply: { content: 'ok' }, needsStaff: false };
      },
    });
    const ask = (id: string, responder: Responder) =>
      sendMessages(db, customer, parseWith(sendSchema, { key: customer.publicKey, sessionId, messages: [{ clientMessageId: id, text: 'Are returns free?' }] }), responder);
    await ask('p1', reading(1));
    await ask('p2', reading(3));
    await ask('p0', echo);
    expect(seen).toEqual([['https://shop.example/returns'], ['https://shop.example/returns', 'https://shop.example/refunds']]);
  });

  it('keeps the messages queued when the claim or search fails in widget_send, and the worker answers them', async () => {
    const admin = (db as Db & AdminCapable).admin;
    const [row] = await admin.query<{ def: string }>(`select pg_get_functiondef('public.crawl_pages_search(jsonb)'::regprocedure) as def`);
    await admin.exec(`create or replace function public.crawl_pages_search(jsonb) returns jsonb language plpgsql stable as $$
      begin raise exception 'search index unavailable'; end $$`);
    const sessionId = crypto.randomBytes(12).toString('hex');
    try {
      const sent = await sendMessages(
        db,
        customer,
        parseWith(sendSchema, { key: customer.publicKey, sessionId, messages: [{ clientMessageId: 's', text: 'Are returns free?' }] }),
        { passages: 1, respond: echo.respond },
      );
      expect(sent.messages.map((m) => m.status)).toEqual(['pending']);
    } finally {
      await admin.exec(row!.def);
    }
    // Pending, not held by a claim: the worker takes it at once.
    expect((await sessionState(db, customer, sessionId, 0)).outbox).toEqual([{ clientMessageId: 's', status: 'pending', position: expect.any(Number) }]);
    const processed = await processMessages(db, echo, { limit: 1000 });
    expect(processed.failed).toEqual([]);
    const state = await sessionState(db, customer, sessionId, 0);
    expect(state.outbox).toEqual([]);
    expect(state.messages.map((m) => m.content)).toEqual(['Are returns free?', 'You said: Are returns free?']);
  });

  it('only enqueues a widget_send replayed from the outage journal (a claim belongs to the database it ran on)', async () => {
    const sessionId = crypto.randomBytes(12).toString('hex');
    const args = {
      customerId: customer.id,
      sessionId,
      messages: [{ clientMessageId: 'r', data: { text: 'replayed' } }],
      inline: 1,
      passages: 1,
    };
    const replayed = await db.rpc<{ messages: { created: boolean; status: string }[]; claimed: unknown[] }>('widget_send', { ...args, replayedFrom: 7 });
    expect(replayed).toMatchObject({ messages: [{ created: true, status: 'pending' }], claimed: [] });
    expect((await sessionState(db, customer, sessionId, 0)).outbox).toEqual([{ clientMessageId: 'r', status: 'pending', position: expect.any(Number) }]);
    // A repeat claims nothing either: the message is not new.
    expect(await db.rpc('widget_send', args)).toMatchObject({ messages: [{ created: false }], claimed: [] });
  });
});

describe('request bodies', () => {
  const request = (body: BodyInit, headers: Record<string, string> = {}) =>
    new Request('https://app.test/api/widget/messages', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);

  it('reads JSON up to the limit and refuses more with 413', async () => {
    await expect(readJson(request('{"a":1}'), 100)).resolves.toEqual({ a: 1 });
    await expect(readJson(request('x'.repeat(101)), 100)).rejects.toMatchObject({ status: 413 });
    await expect(readJson(request('{}', { 'content-length': '1000000' }), 100)).rejects.toMatchObject({ status: 413 });
    const streamed = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(50)));
        controller.close();
      },
    });
    await expect(readJson(request(streamed), 100)).rejects.toMatchObject({ status: 413 });
    await expect(readJson(request('{nope'), 100)).rejects.toMatchObject({ status: 400, code: 'invalid_json' });
  });

  it('names the offending field', () => {
    const attempt = (value: unknown) => {
      try {
        parseWith(sendSchema, value);
      } catch (error) {
        expect(error).toBeInstanceOf(HttpError);
        return (error as HttpError).message;
      }
      throw new Error('expected a refusal');
    };
    const base = { key: `pk_${'a'.repeat(32)}`, sessionId: 'session-123', messages: [{ clientMessageId: 'm1', text: 'hi' }] };
    expect(attempt({ ...base, key: 'sk_live' })).toBe('key: not a widget key');
    expect(attempt({ ...base, messages: [] })).toBe('messages: at least one message');
    expect(attempt({ ...base, messages: [{ clientMessageId: 'm1', text: '' }] })).toBe('messages.0.text: must not be empty');
    expect(attempt({ ...base, messages: [{ clientMessageId: 'm 1', text: 'x' }] })).toMatch(/^messages\.0\.clientMessageId: /);
    expect(attempt({ ...base, sessionId: undefined })).toMatch(/^sessionId: /);
  });
});
