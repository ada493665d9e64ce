/**
 * The cron route handler (`GET /api/cron/[task]`), called directly with a Request the way Next.js
 * calls it, on a migrated PostgreSQL database and on PGlite: authorisation, the run ledger in
 * cleanup_runs (one run per task and schedule slot, duplicates and overlaps skipped, abandoned runs
 * taken over), and failures recorded. Concurrency is checked on PostgreSQL only (PGlite has one
 * connection).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET } from '@/app/api/cron/[task]/route';
import { loadConfig, type Config } from '@/lib/config';
import { runCronTask, type CronOutcome, type CronRun } from '@/lib/cron/run';
import { getCronTask } from '@/lib/cron/tasks';
import { PostgresDb } from '@/lib/db/postgres';
import type { Db } from '@/lib/db/types';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { countRows, insertCompletedMessages, newCustomer } from '../support/fixtures';

const SECRET = 'test-cron-secret-0123456789abcdef';
const production = loadConfig({ NODE_ENV: 'production', CRON_SECRET: SECRET });

/**
 * A fresh schedule slot for each call (cleanup-message-queue runs daily at 03:00 UTC), ten days
 * apart so a test can also use the day after.
 */
let day = 0;
const nextDay = () => new Date(Date.UTC(2026, 0, 1 + 10 * day++, 12, 0, 0));
const slotOf = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), 3)).toISOString();

interface CallOptions {
  db: Db;
  authorization?: string | null;
  config?: Config;
  now?: Date;
}

async function call(task: string, { db, authorization = `Bearer ${SECRET}`, config = production, now }: CallOptions) {
  const headers = new Headers();
  if (authorization !== null) headers.set('authorization', authorization);
  const response = await GET(
    new Request(`http://localhost/api/cron/${task}`, { headers }),
    { params: Promise.resolve({ task }) },
    { config, db, now },
  );
  return { status: response.status, headers: response.headers, body: (await response.json()) as CronOutcome & { error?: { code: string; message: string } } };
}

interface LedgerRow extends Record<string, unknown> {
  id: number;
  scheduled_for: string;
  status: string;
  rows_affected: number;
  error: string | null;
  finished: boolean;
}

async function ledger(backend: SqlBackend, task = 'cleanup-message-queue'): Promise<LedgerRow[]> {
  return backend.admin.query<LedgerRow>(
    `select id::int, to_char(scheduled_for at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as scheduled_for,
            status, rows_affected::int, error, finished_at is not null as finished
       from cleanup_runs where task = $1 order by id`,
    [task],
  );
}

describe.each(sqlBackendKinds)('cron routes on %s', (kind) => {
  let backend: SqlBackend;
  let db: Db;
  let customerId: string;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    db = backend.db;
    customerId = await newCustomer(db);
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('answers 401 without the secret or with a wrong one, and runs nothing', async () => {
    const now = nextDay();
    for (const authorization of [null, '', `Bearer ${SECRET}x`, `Bearer ${SECRET.slice(0, -1)}`, SECRET, `Basic ${SECRET}`, 'Bearer ']) {
      const { status, headers, body } = await call('cleanup-message-queue', { db, authorization, now });
      expect({ authorization, status }).toEqual({ authorization, status: 401 });
      expect(headers.get('www-authenticate')).toBe('Bearer');
      expect(body.error).toEqual({ code: 'unauthorized', message: expect.stringMatching(/^\[omniops\] \[cron\] missing or wrong Authorization/) });
    }
    // Authorisation comes before the task name, so unknown names reveal nothing either.
    expect((await call('no-such-task', { db, authorization: null, now })).status).toBe(401);
    expect(await ledger(backend)).toEqual([]);
  });

  it('refuses to run at all in production without CRON_SECRET, and is open in development', async () => {
    const now = nextDay();
    const unset = await call('cleanup-message-queue', { db, config: loadConfig({ NODE_ENV: 'production' }), now });
    expect(unset).toMatchObject({
      status: 503,
      body: { error: { code: 'cron_disabled', message: '[omniops] [cron] CRON_SECRET is not set: cron routes are disabled in production' } },
    });
    expect(unset.headers.get('www-authenticate')).toBeNull();
    expect(await ledger(backend)).toEqual([]);

    const dev = await call('cleanup-message-queue', { db, config: loadConfig({}), authorization: null, now });
    expect(dev.status).toBe(200);
    expect(dev.body.outcome).toBe('ran');
  });

  it('answers 404 for an unknown task', async () => {
    const { status, body } = await call('cleanup-everything', { db, now: nextDay() });
    expect(status).toBe(404);
    expect(body.error).toEqual({
      code: 'unknown_task',
      message: '[omniops] [cron] unknown task; tasks: process-queue, scrape, cleanup-message-queue, cleanup-scrape-jobs, conversation-retention',
    });
  });

  it('runs with the secret, records the run with its count, and treats a second delivery of the slot as a no-op', async () => {
    await insertCompletedMessages(backend.admin, customerId, 7, `now() - interval '1 minute'`, 'ran-expired');
    await insertCompletedMessages(backend.admin, customerId, 3, `now() + interval '1 hour'`, 'ran-fresh');
    const now = nextDay();
    const before = (await ledger(backend)).length;

    const first = await call('cleanup-message-queue', { db, now });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body).toMatchObject({
      task: 'cleanup-message-queue',
      outcome: 'ran',
      run: { task: 'cleanup-message-queue', status: 'succeeded', rowsAffected: 7, error: null, scheduledFor: expect.any(String) },
    });
    expect(new Date(first.body.run.scheduledFor).toISOString()).toBe(slotOf(now));
    expect(await countRows(backend.admin, 'message_queue', `client_message_id like 'ran-%'`)).toBe(3);
    const rows = await ledger(backend);
    expect(rows.slice(before)).toEqual([
      { id: first.body.run.id, scheduled_for: slotOf(now), status: 'succeeded', rows_affected: 7, error: null, finished: true },
    ]);

    // Vercel delivers the same schedule again (later in the same slot): nothing runs.
    await insertCompletedMessages(backend.admin, customerId, 2, `now() - interval '1 minute'`, 'ran-late');
    const again = await call('cleanup-message-queue', { db, now: new Date(now.getTime() + 3_600_000) });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'skipped', reason: 'duplicate', run: { id: first.body.run.id, status: 'succeeded' } });
    expect(await countRows(backend.admin, 'message_queue', `client_message_id like 'ran-late-%'`)).toBe(2);
    expect(await ledger(backend)).toEqual(rows);

    // The next day's slot runs again.
    const next = await call('cleanup-message-queue', { db, now: new Date(now.getTime() + 86_400_000) });
    expect(next.body).toMatchObject({ outcome: 'ran', run: { status: 'succeeded', rowsAffected: 2 } });
  });

  it('skips a slot while another run of the task is going, and records the skip', async () => {
    const running = nextDay();
    const claim = await db.rpc<{ started: boolean; run: CronRun }>('cron_run_begin', {
      task: 'cleanup-message-queue',
      scheduledFor: slotOf(running),
    });
    expect(claim.started).toBe(true);

    const now = nextDay();
    const { status, body } = await call('cleanup-message-queue', { db, now });
    expect(status).toBe(200);
    expect(body).toMatchObject({ outcome: 'skipped', reason: 'overlap', run: { status: 'skipped', rowsAffected: 0 } });
    const skipped = (await ledger(backend)).find((r) => r.scheduled_for === slotOf(now));
    expect(skipped).toMatchObject({ status: 'skipped', finished: true, rows_affected: 0 });
    expect(skipped!.error).toContain(`skipped: run ${claim.run.id} (scheduled for`);

    const finished = await db.rpc<CronRun>('cron_run_finish', { runId: claim.run.id });
    expect(finished.status).toBe('succeeded');
  });

  it('takes over a run whose process died (no heartbeat within the lease)', async () => {
    await insertCompletedMessages(backend.admin, customerId, 4, `now() - interval '1 minute'`, 'dead');
    const dead = await db.rpc<{ run: CronRun }>('cron_run_begin', { task: 'cleanup-message-queue', scheduledFor: slotOf(nextDay()) });
    await backend.admin.query(`update cleanup_runs set heartbeat_at = now() - interval '10 minutes' where id = $1`, [dead.run.id]);

    const { body } = await call('cleanup-message-queue', { db, now: nextDay() });
    expect(body).toMatchObject({ outcome: 'ran', run: { status: 'succeeded', rowsAffected: 4 } });
    const row = (await ledger(backend)).find((r) => r.id === dead.run.id);
    expect(row).toMatchObject({ status: 'failed', finished: true, rows_affected: 0 });
    expect(row!.error).toMatch(/^abandoned: no progress since .* \(lease 00:02:00\)$/);

    // The dead run's process, were it to come back, can no longer delete anything.
    await insertCompletedMessages(backend.admin, customerId, 1, `now() - interval '1 minute'`, 'zombie');
    await expect(db.rpc('cron_cleanup_message_queue_step', { runId: dead.run.id })).rejects.toMatchObject({ code: '55000' });
    expect(await countRows(backend.admin, 'message_queue', `client_message_id like 'zombie-%'`)).toBe(1);
    await backend.admin.query(`delete from message_queue where client_message_id like 'zombie-%'`);
  });

  it('lets a task set its own lease', async () => {
    const slow = await db.rpc<{ run: CronRun }>('cron_run_begin', { task: 'cleanup-message-queue', scheduledFor: slotOf(nextDay()) });
    await backend.admin.query(`update cleanup_runs set heartbeat_at = now() - interval '5 minutes' where id = $1`, [slow.run.id]);
    const patient = { ...getCronTask('cleanup-message-queue'), leaseSeconds: 600 };
    expect(await runCronTask(db, patient, { config: production, now: nextDay() })).toMatchObject({ outcome: 'skipped', reason: 'overlap' });
    // The registered task's lease (120 s) has run out: it takes over.
    expect((await call('cleanup-message-queue', { db, now: nextDay() })).body).toMatchObject({ outcome: 'ran' });
  });

  it('answers 500 and records the error when the task fails', async () => {
    await backend.admin.exec('alter function cron_cleanup_message_queue_step(jsonb) rename to cron_step_renamed');
    try {
      const now = nextDay();
      const { status, body } = await call('cleanup-message-queue', { db, now });
      expect(status).toBe(500);
      expect(body).toMatchObject({ outcome: 'ran', run: { status: 'failed', rowsAffected: 0 } });
      expect(body.outcome === 'ran' && body.run.error).toMatch(/cron_cleanup_message_queue_step.*does not exist/);
      expect((await ledger(backend)).find((r) => r.scheduled_for === slotOf(now))).toMatchObject({ status: 'failed', finished: true });
    } finally {
      await backend.admin.exec('alter function cron_step_renamed(jsonb) rename to cron_cleanup_message_queue_step');
    }
  });
});

describe('cron routes on postgres, concurrently', () => {
  let backend: SqlBackend;

  beforeAll(async () => {
    backend = await sqlBackends.postgres();
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('two deliveries of one slot at once: one runs, the other reports it skipped', async () => {
    const customerId = await newCustomer(backend.db);
    await insertCompletedMessages(backend.admin, customerId, 20_000, `now() - interval '1 minute'`);
    // Two server instances, each with its own connection pool.
    const other = new PostgresDb(backend.url!);
    try {
      const now = nextDay();
      const results = await Promise.all([call('cleanup-message-queue', { db: backend.db, now }), call('cleanup-message-queue', { db: other, now })]);
      expect(results.map((r) => r.status)).toEqual([200, 200]);
      const ran = results.filter((r) => r.body.outcome === 'ran');
      const skipped = results.filter((r) => r.body.outcome === 'skipped');
      expect(ran).toHaveLength(1);
      expect(skipped).toHaveLength(1);
      expect(ran[0]!.body.run).toMatchObject({ status: 'succeeded', rowsAffected: 20_000 });
      expect(skipped[0]!.body).toMatchObject({ reason: 'duplicate', run: { id: ran[0]!.body.run.id } });
      expect(await ledger(backend)).toEqual([
        { id: ran[0]!.body.run.id, scheduled_for: slotOf(now), status: 'succeeded', rows_affected: 20_000, error: null, finished: true },
      ]);
      expect(await countRows(backend.admin, 'message_queue')).toBe(0);
    } finally {
      await other.close();
    }
  });
});
