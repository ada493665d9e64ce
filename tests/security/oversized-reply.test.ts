/**
 * Attack: one oversized reply fails a whole delivery batch. A model (or a crawled passage) answering
 * one visitor with more than messages.content's 10,000 characters made `queue_deliver` fail for
 * every message of the batch — any customer's — until all were dead-lettered.
 *
 * Now replies are capped before delivery (lib/chat/responder.ts capReply) and `queue_deliver`
 * delivers each item in a subtransaction of its own (migration 20261202010000_widget_abuse.sql).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REPLY_CHARS, capReply, type Responder } from '@/lib/queue/responder';
import { createCustomer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { claimMessages, deliverMessages, enqueueMessages, getSession } from '@/lib/queue';
import { processMessages } from '@/lib/queue/processor';
import { migratedPostgres } from '../support/databases';

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
let db: Db;
let customers: string[];

beforeAll(async () => {
  pg = await migratedPostgres();
  db = pg.db;
  customers = [];
  for (const name of ['Victim A', 'Victim B']) customers.push((await createCustomer(db, { name, allowedOrigins: [] })).customer.id);
});
afterAll(async () => {
  await pg?.dispose();
});

const huge = 'word '.repeat(5000); // 25,000 characters

async function enqueueOne(customerId: string, text: string) {
  const sessionId = crypto.randomBytes(8).toString('hex');
  const { messages } = await enqueueMessages(db, { customerId, sessionId, messages: [{ clientMessageId: 'm', data: { text } }] });
  return { sessionId, id: messages[0]!.id, customerId };
}

describe('a reply over the database limit', () => {
  it('fails alone in a delivery batch: the other customers’ messages are delivered', async () => {
    const sent = [await enqueueOne(customers[0]!, 'hi'), await enqueueOne(customers[1]!, 'big'), await enqueueOne(customers[1]!, 'hello')];
    await claimMessages(db, { ids: sent.map((m) => m.id) });
    const outcome = await deliverMessages(db, [
      { id: sent[0]!.id, reply: { content: 'fine' } },
      { id: sent[1]!.id, reply: { content: huge } },
      { id: sent[2]!.id, reply: { content: 'also fine' } },
    ]);
    expect(outcome.delivered.sort()).toEqual([sent[0]!.id, sent[2]!.id].sort());
    expect(outcome.failed).toEqual([{ id: sent[1]!.id, error: expect.stringMatching(/delivery refused \(23514\)/) }]);
    for (const i of [0, 2]) {
      const state = await getSession(db, { customerId: sent[i]!.customerId, sessionId: sent[i]!.sessionId });
      expect(state.outbox).toEqual([]);
      expect(state.messages.map((m) => m.role)).toEqual(['visitor', 'bot']);
    }
    // Nothing of the refused item was written: its message is still queued, no half conversation.
    const refused = await getSession(db, { customerId: sent[1]!.customerId, sessionId: sent[1]!.sessionId });
    expect(refused.messages).toEqual([]);
    expect(refused.outbox).toHaveLength(1);
  });

  it('is capped by the processor at a word boundary, so every message of the batch is answered', async () => {
    const sent = [await enqueueOne(customers[0]!, 'short'), await enqueueOne(customers[1]!, 'ramble')];
    const responder: Responder = {
      async respond(message) {
        return { reply: { content: message.data.text === 'ramble' ? huge : 'ok' }, needsStaff: false };
      },
    };
    const result = await processMessages(db, responder, { ids: sent.map((m) => m.id), limit: 2 });
    expect(result.delivered.sort()).toEqual(sent.map((m) => m.id).sort());
    expect(result.failed).toEqual([]);
    const state = await getSession(db, { customerId: sent[1]!.customerId, sessionId: sent[1]!.sessionId });
    const reply = state.messages.find((m) => m.role === 'bot')!.content;
    expect(reply.length).toBeLessThanOrEqual(MAX_REPLY_CHARS);
    expect(reply).toMatch(/word…$/);
  });

  it('caps by characters, not UTF-16 units, and leaves short replies alone', () => {
    expect(capReply('short')).toBe('short');
    const emoji = '😀'.repeat(MAX_REPLY_CHARS + 10);
    expect(Array.from(capReply(emoji)).length).toBe(MAX_REPLY_CHARS);
    expect(capReply('aaaa bbbb cccc', 12)).toBe('aaaa bbbb…');
  });
});
