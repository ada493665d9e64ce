/**
 * GET /api/admin/crawl-jobs/<id>/results?status=&afterId=&limit= — a page of the job's results, from
 * Postgres (a staff member's under RLS; 404 for another customer's job).
 */
import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { staffDb } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { requireStaffJob } from '@/lib/dashboard';
import { errorResponse, parseWith } from '@/lib/http';
import { resultsQuerySchema } from '@/lib/jobs';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

export const GET = observed('/api/admin/crawl-jobs/[id]/results', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const staff = await requireStaffApi(request);
    const { id } = parseWith(z.object({ id: jobIdSchema }), await params);
    const query = parseWith(resultsQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
    const manager = await getPersistentJobManager(await staffDb(getConfig(), staff));
    await requireStaffJob(manager, staff, id);
    return Response.json(await manager.getJobResultsFromSupabase(id, query), { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error);
  }
});
