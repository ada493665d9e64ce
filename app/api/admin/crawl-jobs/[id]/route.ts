/**
 * GET /api/admin/crawl-jobs/<id> — the job with its stats (the hot copy while Redis has it, else
 * Postgres). 404 for a job of a customer the staff member does not belong to.
 */
import { z } from 'zod';
import { staffRoute } from '@/lib/auth/route';
import { requireStaffJob } from '@/lib/dashboard';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';

export const dynamic = 'force-dynamic';

export const GET = staffRoute(
  { route: '/api/admin/crawl-jobs/[id]', access: 'member', customer: 'resource', params: z.object({ id: jobIdSchema }) },
  async ({ db, staff, params }) => {
    const manager = await getPersistentJobManager(db);
    return Response.json(await requireStaffJob(manager, staff, params.id, { hot: true }), { headers: { 'cache-control': 'no-store' } });
  },
);
