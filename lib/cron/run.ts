/**
 * Running one scheduled task, the same way for the cron routes and the local scheduler:
 *
 *   claim the schedule slot (`cron_run_begin`) → the task's work → close the run (`cron_run_finish`)
 *
 * The claim is the run ledger (`cleanup_runs`, unique per task and slot) and the task's lease: a
 * second delivery of the slot, or a delivery while another slot's run is still going, is reported
 * as skipped and does nothing. Work is done in steps, each one committed SQL call, so a run stopped
 * at any point leaves whole batches done and counted (see supabase/migrations/*_scheduled_work.sql).
 */
import type { Config } from '@/lib/config';
import type { Db } from '@/lib/db/types';
import { createLogger } from '@/lib/log';
import { scheduledSlot } from './schedule';

const log = createLogger('cron');

/** What a task's work gets. */
export interface CronTaskContext {
  db: Db;
  config: Pick<Config, 'scrapeJobRetentionDays' | 'openai'>;
  /** The ledger row of this run; every step names it, which renews the lease and counts its rows. */
  runId: number;
}

export interface CronTask {
  /** Kebab-case; also the route `/api/cron/<name>` and the ledger's `task`. */
  readonly name: string;
  /** 5-field cron expression, UTC (as in vercel.json). */
  readonly schedule: string;
  readonly description: string;
  /**
   * Seconds without a step after which a run counts as dead and the next delivery takes over.
   * Must exceed the longest single step. @default 120
   */
  readonly leaseSeconds?: number;
  /** The work. Rows affected are counted by the steps themselves, in the ledger. */
  run(context: CronTaskContext): Promise<void>;
}

/** A row of `cleanup_runs`, as the run RPCs return it. */
export interface CronRun {
  id: number;
  task: string;
  scheduledFor: string;
  status: 'running' | 'succeeded' | 'failed' | 'skipped';
  startedAt: string;
  finishedAt: string | null;
  rowsAffected: number;
  error: string | null;
}

export type CronOutcome =
  /** This delivery ran the task; `run.status` says whether it succeeded. */
  | { task: string; outcome: 'ran'; run: CronRun }
  /**
   * Nothing was done: `duplicate` — the slot was already claimed (`run` is that claim);
   * `overlap` — another run of the task was still going (`run` records this slot as skipped).
   */
  | { task: string; outcome: 'skipped'; reason: 'duplicate' | 'overlap'; run: CronRun };

type Claim = { started: true; run: CronRun } | { started: false; reason: 'duplicate' | 'overlap'; run: CronRun };

/**
 * Run `task` for the schedule slot `now` falls in. A failing task is recorded as a failed run and
 * returned (not thrown); only an unreachable database rejects.
 */
export async function runCronTask(
  db: Db,
  task: CronTask,
  { config, now = new Date() }: { config: CronTaskContext['config']; now?: Date },
): Promise<CronOutcome> {
  const scheduledFor = scheduledSlot(task.name, task.schedule, now);
  const claim = await db.rpc<Claim>('cron_run_begin', {
    task: task.name,
    scheduledFor: scheduledFor.toISOString(),
    leaseSeconds: task.leaseSeconds,
  });
  if (!claim.started) {
    log.info(`${task.name}: skipped slot ${scheduledFor.toISOString()} (${claim.reason})`, { runId: claim.run.id });
    return { task: task.name, outcome: 'skipped', reason: claim.reason, run: claim.run };
  }

  let error: string | undefined;
  try {
    await task.run({ db, config, runId: claim.run.id });
  } catch (failure) {
    error = failure instanceof Error ? failure.message : String(failure);
  }
  const run = await db.rpc<CronRun>('cron_run_finish', { runId: claim.run.id, error });
  const summary = `${task.name}: run ${run.id} for ${scheduledFor.toISOString()} ${run.status}, ${run.rowsAffected} row(s)`;
  if (run.status === 'succeeded') log.info(summary);
  else log.error(`${summary}: ${run.error ?? 'unknown error'}`);
  return { task: task.name, outcome: 'ran', run };
}

/** What a step RPC returns: rows it deleted, whether nothing is left, and where the next step resumes. */
interface StepResult {
  deleted: number;
  done: boolean;
  cursor?: unknown;
}

/**
 * Call the step function `fn` until it reports done: one bounded batch per call, each committed on
 * its own, so locks are held for one batch at a time and other queries interleave between batches.
 */
export async function runSteps(context: CronTaskContext, fn: string, args: Record<string, unknown>): Promise<void> {
  let cursor: unknown = null;
  for (;;) {
    const step = await context.db.rpc<StepResult>(fn, { ...args, runId: context.runId, cursor });
    if (step.done) return;
    cursor = step.cursor ?? null;
    // The embedded database runs in this thread and answers through promise callbacks alone: without
    // a turn of the event loop here, requests arriving meanwhile could not even queue their queries
    // until the whole run is over.
    await new Promise((resolve) => setImmediate(resolve));
  }
}
