/**
 * The process-queue task delivers what inline processing left behind — messages whose processing
 * failed or whose worker died — and counts them in the run ledger; on PostgreSQL and PGlite.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_ANSWER_REPLY } from '@/lib/chat/responder';
import type { Responder } from '@/lib/queue/responder';
import { runCronTask } from '@/lib/cron/run';
import { getCronTask } from '@/lib/cron/tasks';
import { claimMessages, enqueueMessages, getSession } from '@/lib/queue';
import { drainQueue } from '@/lib/queue/processor';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { newCustomer } from '../support/fixtures';

describe.each(sqlBackendKinds)('process-queue on %s', (kind) => {
  let backend: SqlBackend;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('delivers queued and abandoned messages and records how many', async () => {
    const { db, admin } = backend;
    const customerId = await newCustomer(db);
    const sessionId = `worker-${crypto.randomBytes(6).toString('hex')}`;
    const { messages } = await enqueueMessages(db, {
      customerId,
      sessionId,
      messages: Array.from({ length: 7 }, (_, i) => ({ clientMessageId: `w-${i}`, data: { text: `left over ${i}` } })),
    });
    // A worker claimed two and died: their claims have expired.
    await claimMessages(db, { ids: messages.slice(0, 2).map((m) => m.id) });
    await admin.query(`update message_queue set available_at = now() - interval '1 second' where session_id = $1`, [sessionId]);

    const outcome = await runCronTask(db, getCronTask('process-queue'), { config: { scrapeJobRetentionDays: 90, openai: undefined } });
    expect(outcome).toMatchObject({ outcome: 'ran', run: { status: 'succeeded', rowsAffected: 7 } });
    const state = await getSession(db, { customerId, sessionId });
    expect(state.outbox).toEqual([]);
    expect(state.messages.filter((m) => m.role === 'visitor').map((m) => m.content)).toEqual(
      Array.from({ length: 7 }, (_, i) => `left over ${i}`),
    );
    // Nothing crawled for this customer: the questions are handed to staff with one polite hand-off
    // (not one per message: supabase/migrations/20261202060000_single_handoff.sql).
    expect(state.messages.filter((m) => m.role === 'bot').map((m) => m.content)).toEqual([NO_ANSWER_REPLY]);
    expect(state.conversationStatus).toBe('needs_staff');
  });

  it('stops claiming when its budget is spent, leaving the rest for the next run', async () => {
    const { db } = backend;
    const customerId = await newCustomer(db);
    const sessionId = `budget-${crypto.randomBytes(6).toString('hex')}`;
    await enqueueMessages(db, {
      customerId,
      sessionId,
      messages: Array.from({ length: 10 }, (_, i) => ({ clientMessageId: `b-${i}`, data: { text: `m ${i}` } })),
    });
    let clock = 0;
    const slow: Responder = {
      async respond() {
        clock += 1000; // every answer takes a (simulated) second
        return { needsStaff: true };
      },
    };
    const delivered = await drainQueue(db, slow, { budgetMs: 2500, batchSize: 2, now: () => clock });
    // Batches start at 0 s and 2 s (each takes 2 s: two answers of a second); none after 2.5 s.
    expect(delivered).toBe(4);
    expect((await getSession(db, { customerId, sessionId })).outbox).toHaveLength(6);
  });
});
