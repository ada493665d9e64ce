/**
 * POST /api/admin/crawl-jobs — start a crawl of a customer's site (idempotent on `jobId`; 429 past
 * the plan's monthly crawls). GET — list jobs with their stats (filters: customerId, status;
 * paging: limit, offset). An admin session, or a staff member of the customer (who must name it
 * when listing; their list is read under RLS).
 */
import { requireStaffApi } from '@/lib/auth/current-staff';
import { requireCustomer, requireNamedCustomer, staffDb } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { crawlSoon, listJobsQuerySchema, startCrawl, startCrawlSchema } from '@/lib/jobs';
import { getPersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';
// The crawl starts after the response (`after()`, 40 s of pages, then those in flight finish).
export const maxDuration = 60;

export const POST = observed('/api/admin/crawl-jobs', async (request: Request) => {
  try {
    const staff = await requireStaffApi(request);
    const input = parseWith(startCrawlSchema, await readJson(request, 16 * 1024));
    requireCustomer(staff, input.customerId);
    const jobs = await getPersistentJobManager();
    const result = await startCrawl(jobs, input);
    if (result.created) crawlSoon(jobs);
    return Response.json(result, { status: result.created ? 201 : 200 });
  } catch (error) {
    return errorResponse(error);
  }
});

export const GET = observed('/api/admin/crawl-jobs', async (request: Request) => {
  try {
    const staff = await requireStaffApi(request);
    const query = parseWith(listJobsQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
    requireNamedCustomer(staff, query.customerId);
    const jobs = await getPersistentJobManager(await staffDb(getConfig(), staff));
    return Response.json(await jobs.listJobs(query), { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error);
  }
});
