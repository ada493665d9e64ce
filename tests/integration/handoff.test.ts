/**
 * One hand-off per waiting period (supabase/migrations/20261202060000_single_handoff.sql): a visitor
 * whose questions the bot cannot answer is told once that staff will reply, not once per message —
 * for a batch replayed from the offline outbox, for later messages while the conversation waits,
 * for a repeated delivery and for two deliveries racing; after a staff reply the next unanswerable
 * message is handed off again. On PostgreSQL and PGlite, through the widget's own send path.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_ANSWER_REPLY, createResponder } from '@/lib/chat/responder';
import type { Responder } from '@/lib/queue/responder';
import { replyToConversation } from '@/lib/conversations';
import { createCustomer, type Customer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { parseWith } from '@/lib/http';
import { deliverMessages, enqueueMessages } from '@/lib/queue';
import { processMessages } from '@/lib/queue/processor';
import { sendMessages, sendSchema, sessionState } from '@/lib/widget';
import { sqlBackendKinds, sqlBackends } from '../support/databases';

describe.each(sqlBackendKinds)('hand-off to staff on %s', (kind) => {
  let db: Db;
  let dispose: () => Promise<void>;
  let customer: Customer;
  // Nothing is crawled for this customer: the real responder hands every question to staff.
  let responder: Responder;

  beforeAll(async () => {
    ({ db, dispose } = await sqlBackends[kind]());
    ({ customer } = await createCustomer(db, { name: 'Quiet Shop', allowedOrigins: ['https://shop.example'] }));
    responder = createResponder(db, { openai: undefined });
  });
  afterAll(async () => {
    await dispose?.();
  });

  const newSession = () => crypto.randomBytes(12).toString('hex');
  const send = (sessionId: string, texts: string[], prefix: string, with_ = responder) =>
    sendMessages(
      db,
      customer,
      parseWith(sendSchema, { key: customer.publicKey, sessionId, messages: texts.map((text, i) => ({ clientMessageId: `${prefix}-${i}`, text })) }),
      with_,
    );
  const transcript = async (sessionId: string) =>
    (await sessionState(db, customer, sessionId, 0)).messages.map((m) => [m.role, m.content] as const);

  it('a batch of unanswerable messages replayed from the offline outbox gets one hand-off, after the batch', async () => {
    const sessionId = newSession();
    const texts = Array.from({ length: 37 }, (_, i) => `offline question ${i}`);
    const sent = await send(sessionId, texts, 'offline');
    expect(sent.messages.every((m) => m.status === 'completed')).toBe(true);
    const state = await sessionState(db, customer, sessionId, 0);
    expect(state.conversationStatus).toBe('needs_staff');
    expect(state.messages.map((m) => [m.role, m.content])).toEqual([...texts.map((t) => ['visitor', t]), ['bot', NO_ANSWER_REPLY]]);
  });

  it('while the conversation waits for staff, further unanswerable messages get no hand-off; after a staff reply, one again', async () => {
    const sessionId = newSession();
    const { conversationId } = await send(sessionId, ['first question'], 'a');
    await send(sessionId, ['second question'], 'b');
    await send(sessionId, ['third question', 'fourth question'], 'c');
    expect(await transcript(sessionId)).toEqual([
      ['visitor', 'first question'],
      ['bot', NO_ANSWER_REPLY],
      ['visitor', 'second question'],
      ['visitor', 'third question'],
      ['visitor', 'fourth question'],
    ]);

    // Answers are not hand-offs: they are delivered while the conversation waits.
    const answering: Responder = { respond: async (m) => ({ reply: { content: `answer to ${m.data.text}` }, needsStaff: false }) };
    await send(sessionId, ['an answerable one'], 'd', answering);
    expect((await transcript(sessionId)).slice(-2)).toEqual([
      ['visitor', 'an answerable one'],
      ['bot', 'answer to an answerable one'],
    ]);

    await replyToConversation(db, { conversationId, content: 'Hi, staff here.', clientMessageId: 'staff-1' });
    expect((await sessionState(db, customer, sessionId, 0)).conversationStatus).toBe('open');
    await send(sessionId, ['a new question', 'and another'], 'e');
    expect((await transcript(sessionId)).slice(-4)).toEqual([
      ['staff', 'Hi, staff here.'],
      ['visitor', 'a new question'],
      ['visitor', 'and another'],
      ['bot', NO_ANSWER_REPLY],
    ]);
  });

  it('a repeated delivery and two deliveries racing for one conversation add no second hand-off', async () => {
    const sessionId = newSession();
    const { messages } = await enqueueMessages(db, {
      customerId: customer.id,
      sessionId,
      messages: Array.from({ length: 6 }, (_, i) => ({ clientMessageId: `r-${i}`, data: { text: `racing ${i}` } })),
    });
    const ids = messages.map((m) => m.id);
    // Two workers, each with half of the session's messages, at the same time.
    await Promise.all([processMessages(db, responder, { ids: ids.slice(0, 3), limit: 3 }), processMessages(db, responder, { ids: ids.slice(3), limit: 3 })]);
    // A worker whose acknowledgement was lost delivers the first message again.
    await deliverMessages(db, [{ id: ids[0]!, reply: { content: NO_ANSWER_REPLY }, needsStaff: true }]);
    const bots = (await transcript(sessionId)).filter(([role]) => role === 'bot');
    expect(bots).toEqual([['bot', NO_ANSWER_REPLY]]);
    expect((await transcript(sessionId)).filter(([role]) => role === 'visitor')).toHaveLength(6);
  });
});
