/**
 * Schedule slots: the instant a delivery of a task belongs to. Vercel Cron and the local scheduler
 * both read schedules as 5-field cron expressions in UTC; a slot is the latest instant the
 * expression matches at or before the delivery, so every delivery of one schedule tick — however
 * late, however often — maps to the same slot, which the run ledger keys on.
 */
import { Cron } from 'croner';

/**
 * A delivery this early still counts for the tick it was meant for: the caller's clock (Vercel's
 * scheduler, or a timer firing a few ms early) may run slightly ahead of this server's.
 */
export const EARLY_DELIVERY_TOLERANCE_MS = 1000;

/** Options shared by the local scheduler's jobs and slot computation, so both read a schedule alike. */
export const CRON_OPTIONS = { timezone: 'UTC', mode: '5-part' } as const;

/** Throws (naming the task) unless `schedule` is a 5-field cron expression Vercel Cron accepts. */
export function parseSchedule(task: string, schedule: string): Cron {
  try {
    return new Cron(schedule, { ...CRON_OPTIONS, paused: true });
  } catch (error) {
    throw new Error(`[omniops] [cron] ${task}: invalid schedule ${JSON.stringify(schedule)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The slot of `schedule` that a delivery at `at` belongs to. */
export function scheduledSlot(task: string, schedule: string, at: Date): Date {
  // previousRuns() excludes a match exactly at the reference instant, hence the extra millisecond.
  const reference = new Date(at.getTime() + EARLY_DELIVERY_TOLERANCE_MS + 1);
  const [slot] = parseSchedule(task, schedule).previousRuns(1, reference);
  if (!slot) throw new Error(`[omniops] [cron] ${task}: schedule ${schedule} has no run before ${at.toISOString()}`);
  return slot;
}
