/**
 * The scrape-job audit trail (docs/crawling.md): Postgres is the truth, Redis the hot copy.
 *
 * Writes go to Postgres first (`crawl_job_*` RPCs, idempotent on the job id and on (job, url)) and
 * then to the cache: `crawl:job:{id}` (the job with its stats, 1 h) and `crawl:results:{id}` (the
 * recorded results, 24 h). A cache failure is logged and never fails a write. Reads prefer the cache
 * and fall back to Postgres, so a job's stats and results stay available after the TTLs — and after
 * Redis lost them.
 *
 * The cached result list is served only when it is complete: its length must equal the job's
 * `stats.totalPages` (a write whose cache append failed leaves it short, and Postgres answers).
 *
 * Concurrent recorders of one job (the crawler's parallel fetches) can finish their cache writes out
 * of order: a job copy is therefore never replaced by one with fewer results from the same process,
 * and a finished job's copy always wins. Across processes a running job's copy may lag by the
 * results of one write until the next; the finished job is exact.
 */
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { crawlJobKey, crawlResultsKey } from '@/lib/cache/keys';
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import type { CacheStore } from '@/lib/cache/types';
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { createLogger } from '@/lib/log';

const log = createLogger('jobs');

export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const RESULT_STATUSES = ['success', 'failed', 'skipped'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];
export const JOB_TYPES = ['full_crawl', 'incremental', 'single_page', 'sitemap'] as const;
export type JobType = (typeof JOB_TYPES)[number];

export interface JobStats {
  totalPages: number;
  successfulPages: number;
  failedPages: number;
  skippedPages: number;
  /** null until a result reported a processing time. */
  avgProcessingTimeMs: number | null;
  /** Results per second between the first and the last result; null before two distinct times. */
  pagesPerSecond: number | null;
  totalBytes: number;
  firstResultAt: string | null;
  lastResultAt: string | null;
}

export interface CrawlJob {
  jobId: string;
  customerId: string;
  domain: string;
  jobType: JobType;
  status: JobStatus;
  config: Record<string, unknown>;
  /** The caller's metadata (`createJob`'s `meta`). */
  data: Record<string, unknown>;
  errorMessage: string | null;
  attempts: number;
  lockedUntil: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  stats: JobStats;
}

/** What the crawler reports about one page. */
export interface PageResult {
  url: string;
  status: ResultStatus;
  httpStatus?: number;
  processingTimeMs?: number;
  bytes?: number;
  contentHash?: string;
  error?: string;
  /** When the page was fetched (ISO 8601). @default the database's clock */
  recordedAt?: string;
  /** The page's searchable text; stored in scraped_pages for a successful page. */
  page?: { title: string; headings: string; content: string };
}

/** A page a crawl found and still has to fetch (or has fetched), at its link depth from the seeds. */
export interface FrontierEntry {
  url: string;
  depth: number;
}

/** A recorded result, as Postgres and the cache return it. */
export interface JobResult {
  id: number;
  jobId: string;
  url: string;
  status: ResultStatus;
  httpStatus: number | null;
  processingTimeMs: number | null;
  bytes: number | null;
  contentHash: string | null;
  error: string | null;
  pageData: Record<string, unknown>;
  createdAt: string;
}

export const jobIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : and - only');

export const createJobSchema = z.object({
  customerId: z.guid(),
  domain: z.string().min(1).max(253),
  jobType: z.enum(JOB_TYPES).default('full_crawl'),
  config: z.record(z.string(), z.unknown()).default({}),
});
export type CreateJobData = z.input<typeof createJobSchema>;

export interface ResultPage {
  results: JobResult[];
  /** Pass as `afterId` for the next page; null on the last one. */
  nextAfterId: number | null;
}

export interface ListJobsOptions {
  customerId?: string;
  status?: JobStatus;
  /** @default 20 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

const FINISHED: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export class PersistentJobManager {
  /** Results count of the last job copy this process cached, per running job (bounded). */
  private readonly cachedProgress = new LRUCache<string, number>({ max: 1000 });

  constructor(
    private readonly db: Db,
    /** The hot tier (the crawler's politeness and deduplication keys live there too). */
    readonly cache: CacheStore,
  ) {}

  /**
   * Create a queued job; idempotent on `jobId` (a repeat returns the stored job, `created: false`).
   * Counts one crawl against the customer's plan: past the monthly limit it rejects with a DbError
   * of SQLSTATE OMUSE (HTTP 429 through `errorResponse`) and creates nothing.
   */
  async createJob(jobId: string, data: CreateJobData, meta: Record<string, unknown> = {}): Promise<{ job: CrawlJob; created: boolean }> {
    const input = createJobSchema.parse(data);
    const result = await this.db.rpc<{ job: CrawlJob; created: boolean }>('crawl_job_create', {
      ...input,
      jobId: jobIdSchema.parse(jobId),
      data: meta,
    });
    await this.cacheJob(result.job);
    return result;
  }

  /** Record one page (a public signature kept from the original design, docs/crawling.md): `pageData` is kept with the result (the crawler's depth and links). */
  async addJobResult(jobId: string, pageData: Record<string, unknown>, result: PageResult): Promise<{ inserted: JobResult[]; job: CrawlJob }> {
    return this.addJobResults(jobId, [{ ...result, pageData }]);
  }

  /**
   * Record pages in one statement. A page already recorded for the job is ignored (`inserted` lists
   * only the new ones). Rejects once the job has finished (SQLSTATE 55000).
   */
  async addJobResults(
    jobId: string,
    results: (PageResult & { pageData?: Record<string, unknown> })[],
  ): Promise<{ inserted: JobResult[]; job: CrawlJob }> {
    return this.cacheRecorded(jobId, await this.db.rpc<{ inserted: JobResult[]; job: CrawlJob }>('crawl_job_add_results', { jobId, results }));
  }

  /**
   * The crawler's record of one page, atomically with its place in the job's frontier: the page
   * marked done, the pages it led to (`discovered`) added as pending; those new to the job come back
   * in `discovered`. Rejects like addJobResults.
   */
  async recordPage(
    jobId: string,
    result: PageResult & { pageData: Record<string, unknown> },
    discovered: FrontierEntry[],
  ): Promise<{ inserted: JobResult[]; job: CrawlJob; discovered: FrontierEntry[] }> {
    return this.cacheRecorded(
      jobId,
      await this.db.rpc<{ inserted: JobResult[]; job: CrawlJob; discovered: FrontierEntry[] }>('crawl_job_record_page', { jobId, result, discovered }),
    );
  }

  private async cacheRecorded<T extends { inserted: JobResult[]; job: CrawlJob }>(jobId: string, outcome: T): Promise<T> {
    await this.bestEffort(`cache results of ${jobId}`, async () => {
      const key = crawlResultsKey(jobId);
      if (outcome.inserted.length > 0) {
        await this.cache.append(key.key, outcome.inserted.map((r) => JSON.stringify(r)), key.ttlMs);
      }
    });
    await this.cacheJob(outcome.job);
    return outcome;
  }

  /** The job with its stats: from the cache while it holds it, else from Postgres (and cached again). */
  async getJob(jobId: string): Promise<CrawlJob | null> {
    const cached = await this.bestEffort(`read job ${jobId}`, () => this.cache.get(crawlJobKey(jobId).key));
    if (cached) return JSON.parse(cached) as CrawlJob;
    return this.getJobFromSupabase(jobId);
  }

  /** The job from Postgres, bypassing the cache (and refreshing it). */
  async getJobFromSupabase(jobId: string, customerId?: string): Promise<CrawlJob | null> {
    const job = await this.db.rpc<CrawlJob | null>('crawl_job_get', { jobId, customerId });
    if (job) await this.cacheJob(job);
    return job;
  }

  async getJobStats(jobId: string): Promise<JobStats | null> {
    return (await this.getJob(jobId))?.stats ?? null;
  }

  /** All of a job's results in recording order: the cached list when complete, else Postgres. */
  async getJobResults(jobId: string): Promise<JobResult[]> {
    const job = await this.getJob(jobId);
    if (!job) return [];
    const cached = await this.bestEffort(`read results of ${jobId}`, () => this.cache.range(crawlResultsKey(jobId).key));
    if (cached && cached.length === job.stats.totalPages && cached.length > 0) {
      return cached.map((r) => JSON.parse(r) as JobResult);
    }
    const results: JobResult[] = [];
    let afterId: number | null = 0;
    while (afterId !== null) {
      const page: ResultPage = await this.getJobResultsFromSupabase(jobId, { afterId, limit: 1000 });
      results.push(...page.results);
      afterId = page.nextAfterId;
    }
    return results;
  }

  /** One page of a job's results from whichever backend is configured (a public name kept from the original design, docs/crawling.md), optionally of one status. */
  getJobResultsFromSupabase(
    jobId: string,
    options: { status?: ResultStatus; afterId?: number; limit?: number } = {},
  ): Promise<ResultPage> {
    return this.db.rpc<ResultPage>('crawl_job_results', { jobId, ...options });
  }

  listJobs(options: ListJobsOptions = {}): Promise<{ jobs: CrawlJob[]; total: number }> {
    return this.db.rpc('crawl_job_list', options);
  }

  completeJob(jobId: string): Promise<CrawlJob> {
    return this.finish(jobId, 'completed');
  }

  failJob(jobId: string, error: string): Promise<CrawlJob> {
    return this.finish(jobId, 'failed', error);
  }

  /** Stop a queued or running job; its worker notices at its next lease renewal. */
  cancelJob(jobId: string): Promise<CrawlJob> {
    return this.finish(jobId, 'cancelled', 'cancelled by staff');
  }

  // The worker's side: leases and resumption.

  /** Lease the next runnable job (or `jobId`), or null. Two workers never get the same job. */
  claimJob(options: { leaseSeconds: number; jobId?: string }): Promise<CrawlJob | null> {
    return this.db.rpc<CrawlJob | null>('crawl_job_claim', options);
  }

  /** Renew (or, with `release`, give up) a lease; tells the job's current status. */
  lease(jobId: string, options: { leaseSeconds: number; release?: boolean }): Promise<{ status: JobStatus; leased: boolean }> {
    return this.db.rpc('crawl_job_lease', { jobId, ...options });
  }

  /** Add seeds (start page, sitemap entries) to the job's frontier; returns those it did not hold. */
  discover(jobId: string, pages: FrontierEntry[]): Promise<FrontierEntry[]> {
    return this.db.rpc('crawl_job_discover', { jobId, pages });
  }

  /** The job's pending frontier, shallowest first, at most `limit`: what a resumed crawl fetches. */
  pendingPages(jobId: string, limit: number): Promise<FrontierEntry[]> {
    return this.db.rpc('crawl_job_frontier', { jobId, limit });
  }

  private async finish(jobId: string, status: 'completed' | 'failed' | 'cancelled', error?: string): Promise<CrawlJob> {
    const job = await this.db.rpc<CrawlJob>('crawl_job_finish', { jobId, status, error });
    await this.cacheJob(job);
    return job;
  }

  private async cacheJob(job: CrawlJob): Promise<void> {
    if (FINISHED.includes(job.status)) {
      this.cachedProgress.delete(job.jobId);
    } else {
      if ((this.cachedProgress.get(job.jobId) ?? -1) > job.stats.totalPages) return;
      this.cachedProgress.set(job.jobId, job.stats.totalPages);
    }
    const key = crawlJobKey(job.jobId);
    await this.bestEffort(`cache job ${job.jobId}`, () => this.cache.set(key.key, JSON.stringify(job), key.ttlMs));
  }

  /** The cache is a copy: its failures are logged and answered with undefined, never thrown. */
  private async bestEffort<T>(what: string, operation: () => Promise<T>): Promise<T | undefined> {
    try {
      return await operation();
    } catch (error) {
      log.warn(`cache: could not ${what}: ${(error as Error).message}`);
      return undefined;
    }
  }
}

/**
 * The app's job manager, on the cache with its in-memory fallback and `db` (a staff member's reads,
 * lib/auth/staff.ts `staffDb`) or else the serving database.
 */
export async function getPersistentJobManager(db?: Db): Promise<PersistentJobManager> {
  const config = getConfig();
  return new PersistentJobManager(db ?? (await resolveDb(config)), getRedisClientWithFallback(config));
}
