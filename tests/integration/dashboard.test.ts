/**
 * The dashboard's data functions on PostgreSQL and PGlite: conversation search and paging, the
 * queue by status, retry that delivers at once, customer edits and key rotation (idempotent), and
 * the overview's time series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCustomer, getCustomerByPublicKey, rotateKey, updateCustomer } from '@/lib/customers';
import {
  getActivity,
  getConversation,
  listConversations,
  listQueue,
  purgeExpired,
  retryAndDeliver,
} from '@/lib/dashboard';
import { enqueueMessages, failMessages, MAX_RETRIES } from '@/lib/queue';
import { sendMessages, sendSchema } from '@/lib/widget';
import { parseWith } from '@/lib/http';
import type { Responder } from '@/lib/queue/responder';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { insertCompletedMessages, newCustomer } from '../support/fixtures';

const echo: Responder = { respond: async (m) => ({ reply: { content: `re: ${m.data.text}` }, needsStaff: false }) };

describe.each(sqlBackendKinds)('dashboard data on %s', (kind) => {
  let backend: SqlBackend;
  let customerId: string;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    customerId = await newCustomer(backend.db, { name: 'Dash Co', plan: 'enterprise', allowedOrigins: ['https://dash.example'] });
    const customer = (await getCustomer(backend.db, customerId))!;
    for (let i = 0; i < 25; i++) {
      const text = i === 7 ? 'Where is my parcel_100%?' : `question number ${i}`;
      await sendMessages(backend.db, customer, parseWith(sendSchema, { key: customer.publicKey, sessionId: `dash-session-${i}`, messages: [{ clientMessageId: 'a', text }] }), echo);
    }
  });
  afterAll(async () => {
    await backend.dispose();
  });

  it('lists conversations newest first with paging, and finds them by message text (wildcards taken literally)', async () => {
    const first = await listConversations(backend.db, { customerId, limit: 10 });
    expect(first.total).toBe(25);
    expect(first.conversations).toHaveLength(10);
    expect(first.conversations[0]).toMatchObject({ sessionId: 'dash-session-24', customerName: 'Dash Co', messageCount: 2, lastMessage: { role: 'bot', content: 're: question number 24' } });
    const third = await listConversations(backend.db, { customerId, limit: 10, offset: 20 });
    expect(third.conversations.map((c) => c.sessionId)).toEqual([4, 3, 2, 1, 0].map((i) => `dash-session-${i}`));

    const found = await listConversations(backend.db, { search: 'parcel_100%' });
    expect(found.conversations.map((c) => c.sessionId)).toEqual(['dash-session-7']);
    expect((await listConversations(backend.db, { search: 'parcel_1000' })).total).toBe(0);
    expect((await listConversations(backend.db, { search: '%' })).conversations.map((c) => c.sessionId)).toEqual(['dash-session-7']);

    const thread = (await getConversation(backend.db, found.conversations[0]!.id))!;
    expect(thread.messages.map((m) => [m.role, m.content])).toEqual([
      ['visitor', 'Where is my parcel_100%?'],
      ['bot', 're: Where is my parcel_100%?'],
    ]);
    expect(await getConversation(backend.db, '00000000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('lists the queue by status, retries a dead letter and delivers it at once, purges expired rows', async () => {
    const { messages } = await enqueueMessages(backend.db, { customerId, sessionId: 'dash-dead', messages: [{ clientMessageId: 'x', data: { text: 'stuck' } }] });
    for (let i = 0; i < MAX_RETRIES; i++) await failMessages(backend.db, [{ id: messages[0]!.id, error: 'responder down' }], { baseDelaySeconds: 0 });
    const failed = await listQueue(backend.db, { customerId, status: 'failed' });
    expect(failed.total).toBe(1);
    expect(failed.messages[0]).toMatchObject({ status: 'failed', retryCount: MAX_RETRIES, lastError: 'responder down' });

    const outcome = await retryAndDeliver(backend.db, { openai: undefined }, { kind: 'admin' }, { ids: [messages[0]!.id] });
    expect(outcome.retried).toHaveLength(1);
    expect(outcome.delivered).toEqual([messages[0]!.id]);
    expect((await listQueue(backend.db, { customerId, status: 'failed' })).total).toBe(0);
    expect((await listQueue(backend.db, { customerId, status: 'completed' })).total).toBe(26);
    // Retrying something that is not a dead letter changes nothing.
    expect((await retryAndDeliver(backend.db, { openai: undefined }, { kind: 'admin' }, { ids: [messages[0]!.id] })).retried).toEqual([]);

    await insertCompletedMessages(backend.admin, customerId, 3, `now() - interval '1 minute'`, 'expired');
    expect(await purgeExpired(backend.db)).toBe(3);
    expect(await purgeExpired(backend.db)).toBe(0);
  });

  it('edits a customer and rotates its key, idempotently; the old key stops working', async () => {
    const updated = await updateCustomer(backend.db, customerId, { name: 'Dash Company', allowedOrigins: ['https://dash.example', 'https://www.dash.example'], retentionDays: 30 });
    expect(updated).toMatchObject({ name: 'Dash Company', allowedOrigins: ['https://dash.example', 'https://www.dash.example'], retentionDays: 30, plan: 'enterprise' });
    expect(await updateCustomer(backend.db, customerId, { name: 'Dash Company' })).toMatchObject({ retentionDays: 30 });
    await expect(updateCustomer(backend.db, customerId, { allowedOrigins: ['ftp://nope'] })).rejects.toThrow(/not an http\(s\) origin/);
    await expect(updateCustomer(backend.db, '00000000-0000-4000-8000-000000000000', { name: 'x' })).rejects.toMatchObject({ code: 'P0002' });

    const old = updated.publicKey;
    const key = 'pk_0123456789abcdef0123456789abcdef';
    expect((await rotateKey(backend.db, customerId, key)).publicKey).toBe(key);
    expect((await rotateKey(backend.db, customerId, key)).publicKey).toBe(key);
    expect(await getCustomerByPublicKey(backend.db, old)).toBeNull();
    expect((await getCustomerByPublicKey(backend.db, key))!.id).toBe(customerId);
  });

  it('counts messages per hour over the last 24 hours, empty hours included', async () => {
    const activity = await getActivity(backend.db, customerId);
    expect(activity.messagesPerHour).toHaveLength(24);
    expect(activity.crawlPagesPerMinute).toHaveLength(60);
    // 25 conversations of 2 messages, plus the retried message and its reply, all written just now
    // (in this hour, or the one before if the test straddles the hour).
    expect(activity.messagesPerHour.reduce((sum, p) => sum + p.count, 0)).toBe(52);
    expect(activity.messagesPerHour.slice(0, -2).every((p) => p.count === 0)).toBe(true);
  });
});
