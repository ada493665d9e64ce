/**
 * The local scheduler (CRON_MODE=internal) on the embedded database: on start it runs every task
 * for its latest slot through the run ledger (so a second scheduler, another replica or a restart
 * finds the slots done), its jobs follow the registry's schedules, and stop() ends them.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '@/lib/config';
import { startCronScheduler } from '@/lib/cron/scheduler';
import { scheduledSlot } from '@/lib/cron/schedule';
import { cronTasks } from '@/lib/cron/tasks';
import { DbError } from '@/lib/db/errors';
import type { PgliteDb } from '@/lib/db/pglite';
import { migratedPglite } from '../support/databases';
import { takeLogs } from '../support/log-capture';

const config = loadConfig({});
// Daily and weekly tasks only: an every-minute task's slot can change between two starts a moment
// apart, which would make "the second start finds the slot done" depend on the clock.
const tasks = cronTasks.filter((task) => task.schedule !== '* * * * *');

describe('local cron scheduler', () => {
  let db: PgliteDb;

  beforeAll(async () => {
    db = await migratedPglite();
  });
  afterAll(async () => {
    await db?.close();
  });

  const ledger = () =>
    db.admin.query<{ task: string; status: string }>('select task, status from cleanup_runs order by task, id');

  it('catches up every task once on start; a second start finds the slots done', async () => {
    const first = startCronScheduler({ tasks, config, getDb: async () => db });
    const done = tasks.map((t) => ({ task: t.name, status: 'succeeded' })).sort((a, b) => a.task.localeCompare(b.task));
    await vi.waitFor(async () => expect(await ledger()).toEqual(done), { timeout: 10_000 });

    const now = Date.now();
    for (const [name, next] of Object.entries(first.nextRuns())) {
      const task = tasks.find((t) => t.name === name)!;
      // The next tick is the tick after the current slot.
      expect(next!.getTime()).toBeGreaterThan(now);
      expect(scheduledSlot(name, task.schedule, new Date(next!.getTime() - 1001)).getTime()).toBeLessThan(now);
    }

    // A second scheduler (a restart, a dev-server reload) replaces the first and runs nothing new.
    takeLogs(/./); // the first scheduler's lines
    const second = startCronScheduler({ tasks, config, getDb: async () => db });
    expect(Object.values(first.nextRuns())).toEqual(tasks.map(() => null));
    const skips: string[] = [];
    await vi.waitFor(
      () => {
        skips.push(...takeLogs(/skipped slot .* \(duplicate\)/, 'info').map((r) => r.line));
        expect(skips).toHaveLength(tasks.length);
      },
      { timeout: 10_000 },
    );
    second.stop();
    expect(Object.values(second.nextRuns())).toEqual(tasks.map(() => null));
    expect(await ledger()).toEqual(done);
  });

  it('logs and carries on when the database is unreachable', async () => {
    const errors: string[] = [];
    const scheduler = startCronScheduler({
      tasks: cronTasks,
      config,
      getDb: () => Promise.reject(new DbError('08001', 'connect ECONNREFUSED 127.0.0.1:1')),
    });
    await vi.waitFor(() => {
      errors.push(...takeLogs(/could not run/, 'error').map((r) => r.line));
      expect(errors).toHaveLength(cronTasks.length);
    });
    expect(errors).toContain('[omniops] [cron] cleanup-message-queue: could not run: connect ECONNREFUSED 127.0.0.1:1');
    scheduler.stop();
  });
});
