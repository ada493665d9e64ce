/**
 * The local scheduler for deployments without Vercel Cron (self-hosted, the embedded default):
 * started by the server process when CRON_MODE=internal, it runs the registry's tasks on their
 * schedules (UTC) through the same `runCronTask` as the cron routes, so the run ledger keeps its
 * guarantees across processes: several replicas each running a scheduler still run each slot once.
 *
 * On start it also runs each task for its latest slot ("catch-up"): a server that was down at
 * 03:00, or that only runs during the day, still gets its daily and weekly cleanups; a slot that
 * already ran is a no-op.
 */
import { Cron } from 'croner';
import type { Db } from '@/lib/db/types';
import { createLogger } from '@/lib/log';
import { runCronTask, type CronTask, type CronTaskContext } from './run';
import { CRON_OPTIONS } from './schedule';

const log = createLogger('cron');

export interface CronScheduler {
  /** When each task runs next (null once stopped). */
  nextRuns(): Record<string, Date | null>;
  /** Stop every job. A run in progress is not interrupted: it goes on to its normal end. */
  stop(): void;
}

export interface CronSchedulerOptions {
  tasks: readonly CronTask[];
  config: CronTaskContext['config'];
  /** The database, resolved per run so a database that was down at start-up is picked up later. */
  getDb: () => Promise<Db>;
}

const globalForScheduler = globalThis as typeof globalThis & { __omniopsCronScheduler?: CronScheduler };

/**
 * Start the scheduler (replacing one this process already started, e.g. before a dev-server
 * reload). Its timers are unref'd: they never keep the process alive on their own.
 */
export function startCronScheduler({ tasks, config, getDb }: CronSchedulerOptions): CronScheduler {
  globalForScheduler.__omniopsCronScheduler?.stop();

  const runOnce = async (task: CronTask) => {
    try {
      await runCronTask(await getDb(), task, { config });
    } catch (error) {
      // The database failed (unreachable): a run it had claimed is taken over once its lease
      // expires, and the next slot runs as usual.
      log.error(`${task.name}: could not run: ${(error as Error).message}`);
    }
  };
  const jobs = tasks.map((task) => ({
    task,
    // protect: a run still going when its next tick comes is not started twice in this process
    // (across processes the ledger's lease does the same).
    cron: new Cron(task.schedule, { ...CRON_OPTIONS, unref: true, protect: true }, () => runOnce(task)),
  }));
  for (const task of tasks) void runOnce(task); // catch-up
  log.info(`internal scheduler started: ${tasks.map((t) => `${t.name} (${t.schedule})`).join(', ')}`);

  const scheduler: CronScheduler = {
    nextRuns: () => Object.fromEntries(jobs.map(({ task, cron }) => [task.name, cron.nextRun()])),
    stop() {
      for (const { cron } of jobs) cron.stop();
      if (globalForScheduler.__omniopsCronScheduler === scheduler) globalForScheduler.__omniopsCronScheduler = undefined;
    },
  };
  globalForScheduler.__omniopsCronScheduler = scheduler;
  return scheduler;
}
