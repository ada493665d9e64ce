/**
 * POST /api/admin/crawl-jobs/<id>/cancel — stop a queued or running crawl (idempotent; 409 once it
 * finished otherwise). 404 for a job of a customer the staff member does not belong to.
 */
import { z } from 'zod';
import { staffRoute } from '@/lib/auth/route';
import { requireStaffJob } from '@/lib/dashboard';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';

export const POST = staffRoute(
  { route: '/api/admin/crawl-jobs/[id]/cancel', access: 'member', customer: 'resource', params: z.object({ id: jobIdSchema }) },
  async ({ db, service, staff, params }) => {
    await requireStaffJob(await getPersistentJobManager(db), staff, params.id);
    // The write itself with the serving database (cancelling is not granted to `authenticated`).
    return Response.json(await (await getPersistentJobManager(service)).cancelJob(params.id));
  },
);
