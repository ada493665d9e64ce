/**
 * GET /api/admin/crawl-jobs/<id> — the job with its stats (the hot copy while Redis has it, else
 * Postgres). 404 for a job of a customer the staff member does not belong to.
 */
import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { staffDb } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { requireStaffJob } from '@/lib/dashboard';
import { errorResponse, parseWith } from '@/lib/http';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

export const GET = observed('/api/admin/crawl-jobs/[id]', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const staff = await requireStaffApi(request);
    const { id } = parseWith(z.object({ id: jobIdSchema }), await params);
    const manager = await getPersistentJobManager(await staffDb(getConfig(), staff));
    return Response.json(await requireStaffJob(manager, staff, id, { hot: true }), { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error);
  }
});
