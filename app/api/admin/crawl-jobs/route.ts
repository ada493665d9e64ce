/**
 * POST /api/admin/crawl-jobs — start a crawl of a customer's site (idempotent on `jobId`; 429 past
 * the plan's monthly crawls). GET — list jobs with their stats (filters: customerId, status;
 * paging: limit, offset). An admin session, or a staff member of the customer (who must name it
 * when listing; their list is read under RLS).
 */
import { staffRoute } from '@/lib/auth/route';
import { crawlSoon, listJobsQuerySchema, startCrawl, startCrawlSchema } from '@/lib/jobs';
import { getPersistentJobManager } from '@/lib/jobs/persistent-job-manager';

export const dynamic = 'force-dynamic';
// The crawl starts after the response (`after()`, 40 s of pages, then those in flight finish).
export const maxDuration = 60;

export const POST = staffRoute(
  { route: '/api/admin/crawl-jobs', access: 'member', customer: 'required', body: startCrawlSchema, maxBytes: 16 * 1024 },
  async ({ service, body }) => {
    const jobs = await getPersistentJobManager(service);
    const result = await startCrawl(jobs, body);
    if (result.created) crawlSoon(jobs);
    return Response.json(result, { status: result.created ? 201 : 200 });
  },
);

export const GET = staffRoute(
  { route: '/api/admin/crawl-jobs', access: 'member', customer: 'optional', query: listJobsQuerySchema },
  async ({ db, query }) => {
    const jobs = await getPersistentJobManager(db);
    return Response.json(await jobs.listJobs(query), { headers: { 'cache-control': 'no-store' } });
  },
);
