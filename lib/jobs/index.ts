/**
 * Crawl jobs as the admin API and the dashboard use them: input schemas and starting a crawl.
 */
import crypto from 'node:crypto';
import { after } from 'next/server';
import { z } from 'zod';
import { getConfig } from '@/lib/config';
import { HttpError } from '@/lib/http';
import { createLogger } from '@/lib/log';
import { crawlConfigSchema } from './crawler';
import { EgressRefused, checkCrawlable, egressPolicy, type EgressPolicy } from './egress';
import { JOB_STATUSES, JOB_TYPES, RESULT_STATUSES, jobIdSchema, type CrawlJob, type PersistentJobManager } from './persistent-job-manager';
import { runCrawlJobs } from './runner';

const log = createLogger('jobs');

export const startCrawlSchema = z.object({
  customerId: z.guid(),
  /** The client's idempotency key: the same jobId twice starts one crawl. @default a new random id */
  jobId: jobIdSchema.optional(),
  startUrl: crawlConfigSchema.shape.startUrl,
  jobType: z.enum(JOB_TYPES).default('full_crawl'),
  maxPages: crawlConfigSchema.shape.maxPages,
  maxDepth: crawlConfigSchema.shape.maxDepth,
  concurrency: crawlConfigSchema.shape.concurrency,
});
export type StartCrawlInput = z.input<typeof startCrawlSchema>;

export const listJobsQuerySchema = z.object({
  customerId: z.guid().optional(),
  status: z.enum(JOB_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
  offset: z.coerce.number().int().min(0).default(0),
});

export const resultsQuerySchema = z.object({
  status: z.enum(RESULT_STATUSES).optional(),
  afterId: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

/**
 * Create the job (idempotent on jobId; counts against the plan's monthly crawls). A start URL the
 * SSRF guard refuses (lib/jobs/egress.ts: its host resolves to an internal address, another port)
 * is a 400 naming `startUrl`, and nothing is created. A host that does not resolve (yet) is
 * accepted: its pages are then recorded as failed.
 */
export async function startCrawl(
  manager: PersistentJobManager,
  input: StartCrawlInput,
  options: { egress?: Partial<EgressPolicy> } = {},
): Promise<{ job: CrawlJob; created: boolean }> {
  const { customerId, jobId, jobType, startUrl, ...limits } = startCrawlSchema.parse(input);
  try {
    await checkCrawlable(startUrl, egressPolicy(getConfig(), options.egress));
  } catch (error) {
    if (error instanceof EgressRefused) throw new HttpError(400, 'invalid_request', `startUrl: ${error.message}`);
    // Resolution failed (no such host, no DNS): the crawl will say so page by page.
    log.warn(`start URL ${startUrl} not checked at creation: ${(error as Error).message}`);
  }
  return manager.createJob(
    jobId ?? `crawl_${crypto.randomUUID()}`,
    { customerId, domain: new URL(startUrl).host, jobType, config: { startUrl, ...limits } },
    { requestedAt: new Date().toISOString() },
  );
}

/**
 * Begin crawling without waiting for the next `scrape` tick: after the response is sent (Next.js
 * `after`, which serverless platforms keep the function alive for), within `budgetMs`. What does
 * not fit is resumed by the cron task.
 */
export function crawlSoon(manager: PersistentJobManager, budgetMs = 40_000): void {
  const work = () =>
    runCrawlJobs(manager, manager.cache, { budgetMs }).then(
      (runs) => runs.forEach((run) => log.info(`job ${run.jobId}: ${run.outcome}`)),
      (error: unknown) => log.warn(`crawl after request: ${(error as Error).message}; the scrape task resumes it`),
    );
  try {
    after(work);
  } catch {
    // Outside a request (tests calling the handler directly): run detached.
    void work();
  }
}
