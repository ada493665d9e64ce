/** POST /api/admin/crawl-jobs/<id>/cancel — stop a queued or running crawl (idempotent; 409 once it finished otherwise). */
import { z } from 'zod';
import { errorResponse, parseWith } from '@/lib/http';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';
import { observed } from '@/lib/metrics';

export const POST = observed('/api/admin/crawl-jobs/[id]/cancel', async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const { id } = parseWith(z.object({ id: jobIdSchema }), await params);
    return Response.json(await (await getPersistentJobManager()).cancelJob(id));
  } catch (error) {
    return errorResponse(error);
  }
});
