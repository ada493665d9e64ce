/** GET /api/admin/crawl-jobs/<id> — the job with its stats (the hot copy while Redis has it, else Postgres). */
import { HttpError, errorResponse, parseWith } from '@/lib/http';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';
import { observed } from '@/lib/metrics';
import { z } from 'zod';

export const dynamic = 'force-dynamic';

export const GET = observed('/api/admin/crawl-jobs/[id]', async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const { id } = parseWith(z.object({ id: jobIdSchema }), await params);
    const job = await (await getPersistentJobManager()).getJob(id);
    if (!job) throw new HttpError(404, 'not_found', `crawl job ${id} does not exist`);
    return Response.json(job, { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error);
  }
});
