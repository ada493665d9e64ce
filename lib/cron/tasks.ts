/**
 * The registry of scheduled tasks, shared by the cron routes (`/api/cron/<name>`, called by Vercel
 * Cron) and the local scheduler (CRON_MODE=internal). `vercel.json` must declare the same names and
 * schedules; a test holds the two together.
 *
 * A new task is one entry here plus one line in vercel.json. Steps count their rows with
 * `private.cron_run_advance` (SQL) or `cron_run_progress` (TypeScript).
 *
 * Batch sizes bound how long one step holds its locks (docs/scheduled-tasks.md lists them; docs/benchmarks.md, "cleanup", has the figures).
 */
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import { createResponder } from '@/lib/chat';
import { PersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import { runCrawlJobs } from '@/lib/jobs/runner';
import { drainQueue } from '@/lib/queue/processor';
import { runSteps, type CronTask } from './run';

export const cronTasks = [
  {
    name: 'process-queue',
    schedule: '* * * * *',
    description: 'delivers queued visitor messages not answered inline (deferred past the inline bounds, failed or interrupted)',
    // 45 s of work leaves room within a 60 s serverless invocation; the rest waits a minute.
    run: (context) =>
      drainQueue(context.db, createResponder(context.db, context.config), {
        budgetMs: 45_000,
        batchSize: 50,
        onBatch: (delivered) => context.db.rpc('cron_run_progress', { runId: context.runId, rows: delivered }),
      }).then(() => undefined),
  },
  {
    name: 'scrape',
    schedule: '* * * * *',
    description: 'crawls queued crawl jobs (and resumes interrupted ones) within a time budget; the rest waits a minute',
    // Pages are started for 40 s; those in flight then finish (request timeout 10 s by default)
    // within a 60 s invocation. The rows counted are the pages recorded.
    run: async (context) => {
      const cache = getRedisClientWithFallback();
      let recorded = 0;
      await runCrawlJobs(new PersistentJobManager(context.db, cache), cache, {
        budgetMs: 40_000,
        onRecorded: () => {
          recorded += 1;
        },
      });
      if (recorded > 0) await context.db.rpc('cron_run_progress', { runId: context.runId, rows: recorded });
    },
  },
  {
    name: 'cleanup-message-queue',
    schedule: '0 3 * * *',
    description: 'deletes completed message_queue rows 24 h after completion (cleanup_expired_message_queue)',
    // A 5,000-row batch takes tens of ms on PostgreSQL; see bench/cleanup.ts.
    run: (context) => runSteps(context, 'cron_cleanup_message_queue_step', { batchSize: 5000 }),
  },
  {
    name: 'cleanup-scrape-jobs',
    schedule: '0 4 * * 0',
    description: 'deletes crawl jobs older than SCRAPE_JOB_RETENTION_DAYS with their results and stats (cleanup_old_scrape_jobs)',
    // Each job takes its page results along (hundreds to thousands of rows), hence a small batch.
    run: (context) =>
      runSteps(context, 'cron_cleanup_scrape_jobs_step', { days: context.config.scrapeJobRetentionDays, batchSize: 25 }),
  },
  {
    name: 'conversation-retention',
    schedule: '30 4 * * 0',
    description: "deletes conversations (and their messages) inactive for longer than their customer's retention_days",
    // Each conversation takes its messages along.
    run: (context) => runSteps(context, 'cron_conversation_retention_step', { batchSize: 200 }),
  },
] as const satisfies readonly CronTask[];

export type CronTaskName = (typeof cronTasks)[number]['name'];

export const cronTaskNames = cronTasks.map((task) => task.name) as [CronTaskName, ...CronTaskName[]];

export function getCronTask(name: CronTaskName): CronTask {
  return cronTasks.find((task) => task.name === name)!;
}
