/**
 * POST /api/admin/crawl-jobs/<id>/cancel — stop a queued or running crawl (idempotent; 409 once it
 * finished otherwise). 404 for a job of a customer the staff member does not belong to.
 */
import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { staffDb } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { requireStaffJob } from '@/lib/dashboard';
import { errorResponse, parseWith } from '@/lib/http';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';
import { observed } from '@/lib/metrics';

export const POST = observed('/api/admin/crawl-jobs/[id]/cancel', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const staff = await requireStaffApi(request);
    const { id } = parseWith(z.object({ id: jobIdSchema }), await params);
    await requireStaffJob(await getPersistentJobManager(await staffDb(getConfig(), staff)), staff, id);
    // The write itself with the serving database (cancelling is not granted to `authenticated`).
    return Response.json(await (await getPersistentJobManager()).cancelJob(id));
  } catch (error) {
    return errorResponse(error);
  }
});
