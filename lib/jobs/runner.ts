/**
 * Running crawl jobs, shared by the long-running worker (`npm run worker`) and the cron task
 * `scrape` (`/api/cron/scrape`, every minute): lease the next runnable job (SKIP LOCKED — two
 * workers never crawl the same job), crawl it until done or out of time, and give the lease back
 * when time ran out so the next tick resumes it at once. A job whose worker died is resumed by
 * whoever claims it after its lease expires.
 */
import type { CacheStore } from '@/lib/cache/types';
import { isConnectionError } from '@/lib/db/errors';
import { createLogger } from '@/lib/log';
import { crawlJob, type CrawlOptions, type CrawlOutcome } from './crawler';
import type { PersistentJobManager } from './persistent-job-manager';

const log = createLogger('jobs');

export interface RunJobsOptions extends Pick<CrawlOptions, 'signal' | 'egress' | 'onRecorded' | 'now'> {
  /** Start no page (and claim no job) after this long. */
  budgetMs: number;
  /** @default 120 */
  leaseSeconds?: number;
}

export interface JobRun {
  jobId: string;
  outcome: CrawlOutcome | 'failed';
}

export async function runCrawlJobs(manager: PersistentJobManager, cache: CacheStore, options: RunJobsOptions): Promise<JobRun[]> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.budgetMs;
  const leaseSeconds = options.leaseSeconds ?? 120;
  const runs: JobRun[] = [];
  while (now() < deadline && !options.signal?.aborted) {
    const job = await manager.claimJob({ leaseSeconds });
    if (!job) break;
    let outcome: JobRun['outcome'];
    try {
      outcome = await crawlJob(job, { ...options, manager, cache, deadline, leaseSeconds });
    } catch (error) {
      // The database went away: nothing can be recorded; the lease expires and the job resumes later.
      if (isConnectionError(error)) throw error;
      const message = (error as Error)?.message ?? String(error);
      log.error(`job ${job.jobId}: failed: ${message}`);
      await manager.failJob(job.jobId, message);
      outcome = 'failed';
    }
    if (outcome === 'paused') {
      // Best effort: a lease that cannot be given back simply expires.
      await manager.lease(job.jobId, { leaseSeconds, release: true }).catch((error: unknown) => {
        log.warn(`job ${job.jobId}: could not release its lease: ${(error as Error).message}`);
      });
    }
    runs.push({ jobId: job.jobId, outcome });
  }
  return runs;
}
