/**
 * Batched cleanup: a run stopped between batches leaves whole batches deleted and counted (both
 * backends), and on PostgreSQL a 200k-row backlog is cleaned while another connection keeps
 * enqueueing without noticeable waits. The figures for 1 M rows are in bench/cleanup.ts.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@/lib/config';
import { runCronTask, type CronTask } from '@/lib/cron/run';
import { getCronTask } from '@/lib/cron/tasks';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { countRows, insertCompletedMessages, newCustomer } from '../support/fixtures';

const config = loadConfig({});
const expired = `now() - interval '1 minute'`;

describe.each(sqlBackendKinds)('an interrupted cleanup on %s', (kind) => {
  let backend: SqlBackend;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('keeps the batches it committed, counts exactly those, and the next run finishes the rest', async () => {
    const customerId = await newCustomer(backend.db);
    await insertCompletedMessages(backend.admin, customerId, 250, expired);
    // The process dies (here: the task throws) after two 100-row batches.
    const dying: CronTask = {
      name: 'cleanup-message-queue',
      schedule: '0 3 * * *',
      description: 'two batches of the real step, then a crash',
      run: async ({ db, runId }) => {
        for (let i = 0; i < 2; i++) await db.rpc('cron_cleanup_message_queue_step', { runId, batchSize: 100 });
        throw new Error('killed after 2 batches');
      },
    };
    const first = await runCronTask(backend.db, dying, { config, now: new Date('2026-03-01T12:00:00Z') });
    expect(first).toMatchObject({ outcome: 'ran', run: { status: 'failed', rowsAffected: 200, error: 'killed after 2 batches' } });
    expect(await countRows(backend.admin, 'message_queue')).toBe(50);

    const next = await runCronTask(backend.db, getCronTask('cleanup-message-queue'), { config, now: new Date('2026-03-02T12:00:00Z') });
    expect(next).toMatchObject({ outcome: 'ran', run: { status: 'succeeded', rowsAffected: 50 } });
    expect(await countRows(backend.admin, 'message_queue')).toBe(0);
  });
});

describe('cleanup of a 200k-row backlog under concurrent enqueues (postgres)', () => {
  let backend: SqlBackend;

  beforeAll(async () => {
    backend = await sqlBackends.postgres();
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('deletes every expired row while enqueues on another connection keep going', { timeout: 180_000 }, async () => {
    const customerId = await newCustomer(backend.db);
    const backlog = 200_000;
    await insertCompletedMessages(backend.admin, customerId, backlog, expired, 'old');
    await backend.admin.exec('analyze message_queue');

    const enqueuer = postgres(backend.url!, { max: 1, onnotice: () => {} });
    await enqueuer`select 1`; // connect before timing
    let cleaning = true;
    let enqueued = 0;
    let longestMs = 0;
    const enqueueLoop = (async () => {
      while (cleaning) {
        const started = performance.now();
        await enqueuer`insert into message_queue (customer_id, session_id, client_message_id, message_data)
                       values (${customerId}, 'live', ${`live-${enqueued}`}, '{"text":"hi"}')`;
        longestMs = Math.max(longestMs, performance.now() - started);
        enqueued++;
      }
    })();
    try {
      const outcome = await runCronTask(backend.db, getCronTask('cleanup-message-queue'), { config });
      cleaning = false;
      await enqueueLoop;
      expect(outcome).toMatchObject({ outcome: 'ran', run: { status: 'succeeded', rowsAffected: backlog } });
    } finally {
      cleaning = false;
      await enqueueLoop.catch(() => {});
      await enqueuer.end();
    }
    expect(await countRows(backend.admin, 'message_queue', `client_message_id like 'old-%'`)).toBe(0);
    expect(await countRows(backend.admin, 'message_queue', `client_message_id like 'live-%'`)).toBe(enqueued);
    expect(enqueued).toBeGreaterThan(0);
    // A generous bound, not the ~100 ms goal (bench/cleanup.ts reports the figure): other test
    // files share this PostgreSQL server and a CI machine has two cores. A cleanup that made inserts
    // wait for its locks (a table lock, a lock on the customer row) would exceed it.
    expect(longestMs).toBeLessThan(2000);
  });
});
