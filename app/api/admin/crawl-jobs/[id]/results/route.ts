/**
 * GET /api/admin/crawl-jobs/<id>/results?status=&afterId=&limit= — a page of the job's results, from
 * Postgres (a staff member's under RLS; 404 for another customer's job).
 */
import { z } from 'zod';
import { staffRoute } from '@/lib/auth/route';
import { requireStaffJob } from '@/lib/dashboard';
import { resultsQuerySchema } from '@/lib/jobs';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';

export const dynamic = 'force-dynamic';

export const GET = staffRoute(
  { route: '/api/admin/crawl-jobs/[id]/results', access: 'member', customer: 'resource', params: z.object({ id: jobIdSchema }), query: resultsQuerySchema },
  async ({ db, staff, params, query }) => {
    const manager = await getPersistentJobManager(db);
    await requireStaffJob(manager, staff, params.id);
    return Response.json(await manager.getJobResultsFromSupabase(params.id, query), { headers: { 'cache-control': 'no-store' } });
  },
);
