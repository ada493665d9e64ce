/**
 * Retention boundaries of the three cleanup tasks, on PostgreSQL and PGlite: rows just outside
 * each boundary go, rows just inside stay — the 24 h message_queue expiry, the 90-day (or
 * configured) crawl-job age, and each customer's own conversation retention days.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@/lib/config';
import { runCronTask, runSteps, type CronTask } from '@/lib/cron/run';
import { getCronTask, type CronTaskName } from '@/lib/cron/tasks';
import type { SqlTx } from '@/lib/db/types';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { countRows, newCustomer } from '../support/fixtures';

const config = loadConfig({});

/** A fresh slot for every run: the weekly tasks run on Sundays, so runs are two weeks apart. */
let week = 0;
const nextSlot = () => new Date(Date.UTC(2026, 0, 4 + 14 * week++, 12));

async function run(backend: SqlBackend, task: CronTaskName | CronTask, options: { scrapeJobRetentionDays?: number } = {}) {
  const outcome = await runCronTask(backend.db, typeof task === 'string' ? getCronTask(task) : task, {
    config: { ...config, ...options },
    now: nextSlot(),
  });
  expect(outcome).toMatchObject({ outcome: 'ran', run: { status: 'succeeded' } });
  return outcome.run.rowsAffected;
}

const names = async (tx: SqlTx, sql: string, params: unknown[] = []) =>
  (await tx.query<{ name: string }>(sql, params)).map((r) => r.name).sort();

describe.each(sqlBackendKinds)('retention on %s', (kind) => {
  let backend: SqlBackend;
  let admin: SqlTx;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    admin = backend.admin;
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('message_queue: completed rows go 24 h after completion, and only those', async () => {
    const customerId = await newCustomer(backend.db);
    const insert = (key: string, status: string, expiresAt: string | null, createdAt = 'now()') =>
      admin.query(
        `insert into message_queue (customer_id, session_id, client_message_id, message_data, status, expires_at, created_at,
                                    processed_at)
         values ($1, 's', $2, '{}', $3, ${expiresAt ?? 'null'}, ${createdAt},
                 case when $3 in ('completed', 'failed') then now() end)`,
        [customerId, key, status],
      );
    // expires_at is completion + 24 h: completed 24 h 1 min ago / 23 h 59 min ago.
    await insert('completed-24h01m-ago', 'completed', `now() - interval '1 minute'`);
    await insert('completed-23h59m-ago', 'completed', `now() + interval '1 minute'`);
    await insert('completed-just-now', 'completed', `now() + interval '24 hours'`);
    await insert('pending-for-a-month', 'pending', null, `now() - interval '30 days'`);
    await insert('dead-letter-for-a-month', 'failed', null, `now() - interval '30 days'`);

    expect(await run(backend, 'cleanup-message-queue')).toBe(1);
    expect(await names(admin, 'select client_message_id as name from message_queue where customer_id = $1', [customerId])).toEqual([
      'completed-23h59m-ago',
      'completed-just-now',
      'dead-letter-for-a-month',
      'pending-for-a-month',
    ]);
  });

  it('scrape_jobs: jobs older than 90 days go with their results and stats; the age is configurable', async () => {
    const customerId = await newCustomer(backend.db);
    const job = async (name: string, age: string) => {
      await admin.query(
        `insert into scrape_jobs (job_id, customer_id, domain, created_at) values ($1, $2, 'example.com', now() - interval '${age}')`,
        [name, customerId],
      );
      await admin.query(
        `insert into scrape_job_results (job_id, customer_id, url, status) values ($1, $2, 'https://example.com/', 'success')`,
        [name, customerId],
      );
    };
    await job('age-90d-1m', '90 days 1 minute');
    await job('age-89d-23h59m', '90 days -1 minute');
    await job('age-29d-23h59m', '30 days -1 minute');
    await job('age-30d-1m', '30 days 1 minute');
    const jobs = () => names(admin, 'select job_id as name from scrape_jobs where customer_id = $1', [customerId]);

    expect(await run(backend, 'cleanup-scrape-jobs')).toBe(1);
    expect(await jobs()).toEqual(['age-29d-23h59m', 'age-30d-1m', 'age-89d-23h59m']);
    expect(await countRows(admin, 'scrape_job_results', `job_id = 'age-90d-1m'`)).toBe(0);
    expect(await countRows(admin, 'scrape_job_stats', `job_id = 'age-90d-1m'`)).toBe(0);

    expect(await run(backend, 'cleanup-scrape-jobs', { scrapeJobRetentionDays: 30 })).toBe(2);
    expect(await jobs()).toEqual(['age-29d-23h59m']);
    expect(await countRows(admin, 'scrape_job_stats', `job_id = 'age-29d-23h59m'`)).toBe(1);
  });

  describe('conversations: each customer’s retention days', () => {
    let shortRetention: string;
    let defaultRetention: string;

    /** A conversation with one message (and a queued row pointing at it); ages are SQL intervals. */
    const conversation = async (customerId: string, name: string, updatedAgo: string, lastMessageAgo: string | null) => {
      const id = crypto.randomUUID();
      await admin.query(
        `insert into conversations (id, customer_id, session_id, created_at, updated_at, last_message_at)
         values ($1, $2, $3, now() - interval '1 year', now() - interval '${updatedAgo}',
                 ${lastMessageAgo === null ? 'null' : `now() - interval '${lastMessageAgo}'`})`,
        [id, customerId, name],
      );
      await admin.query(
        `insert into messages (conversation_id, customer_id, role, content) values ($1, $2, 'visitor', 'hello')`,
        [id, customerId],
      );
      await admin.query(
        `insert into message_queue (customer_id, session_id, conversation_id, client_message_id, message_data, status, processed_at)
         values ($2, $3, $1, 'q', '{}', 'failed', now())`,
        [id, customerId, name],
      );
      await admin.query(
        `insert into message_queue (customer_id, session_id, conversation_id, client_message_id, message_data)
         values ($2, $3, $1, 'live', '{}')`,
        [id, customerId, name],
      );
    };

    beforeAll(async () => {
      shortRetention = await newCustomer(backend.db, { name: 'Short', retentionDays: 30 });
      defaultRetention = await newCustomer(backend.db, { name: 'Default' });
      for (const [customerId, days] of [
        [shortRetention, 30],
        [defaultRetention, 90],
      ] as const) {
        const p = days === 30 ? 'short' : 'default';
        await conversation(customerId, `${p}-idle-${days}d-1m`, `${days} days 1 minute`, `${days} days 1 minute`);
        await conversation(customerId, `${p}-idle-${days}d-minus-1m`, `${days} days -1 minute`, `${days} days -1 minute`);
        await conversation(customerId, `${p}-no-messages-idle-${days}d-1m`, `${days} days 1 minute`, null);
        // Last activity is the later of the last message and the last update.
        await conversation(customerId, `${p}-old-update-recent-message`, '400 days', '1 day');
        await conversation(customerId, `${p}-old-message-recent-update`, '1 day', '400 days');
      }
    });

    it('deletes exactly the conversations idle for longer than their customer’s days, with their messages', async () => {
      const conversations = () => names(admin, 'select session_id as name from conversations');
      const before = await countRows(admin, 'messages');

      expect(await run(backend, 'conversation-retention')).toBe(4);
      expect(await conversations()).toEqual([
        'default-idle-90d-minus-1m',
        'default-old-message-recent-update',
        'default-old-update-recent-message',
        'short-idle-30d-minus-1m',
        'short-old-message-recent-update',
        'short-old-update-recent-message',
      ]);
      expect(await countRows(admin, 'messages')).toBe(before - 4);
      // A deleted conversation's dead letters go with it (the visitor's words are past retention);
      // its live queued messages stay, to be delivered into a new conversation.
      expect(await names(admin, `select session_id as name from message_queue where client_message_id = 'q'`)).toEqual(
        await conversations(),
      );
      expect(await countRows(admin, 'message_queue', `client_message_id = 'live'`)).toBe(10);
      expect(await run(backend, 'conversation-retention')).toBe(0);
    });

    it('gives the same result in small batches across customers', async () => {
      for (const customerId of [shortRetention, defaultRetention]) {
        for (let i = 0; i < 5; i++) await conversation(customerId, `batch-${customerId}-${i}`, '400 days', '400 days');
      }
      const smallBatches: CronTask = {
        name: 'retention-in-batches-of-2',
        schedule: '0 4 * * 0',
        description: 'conversation-retention, 2 conversations per step',
        run: (context) => runSteps(context, 'cron_conversation_retention_step', { batchSize: 2 }),
      };
      expect(await run(backend, smallBatches)).toBe(10);
      expect(await countRows(admin, 'conversations', `session_id like 'batch-%'`)).toBe(0);
      expect(await countRows(admin, 'conversations')).toBe(6);
    });
  });
});
