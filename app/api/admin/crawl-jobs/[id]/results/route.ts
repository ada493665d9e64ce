/** GET /api/admin/crawl-jobs/<id>/results?status=&afterId=&limit= — a page of the job's results, from Postgres. */
import { z } from 'zod';
import { errorResponse, parseWith } from '@/lib/http';
import { resultsQuerySchema } from '@/lib/jobs';
import { getPersistentJobManager, jobIdSchema } from '@/lib/jobs/persistent-job-manager';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

export const GET = observed('/api/admin/crawl-jobs/[id]/results', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const { id } = parseWith(z.object({ id: jobIdSchema }), await params);
    const query = parseWith(resultsQuerySchema, Object.fromEntries(new URL(request.url).searchParams));
    return Response.json(await (await getPersistentJobManager()).getJobResultsFromSupabase(id, query), {
      headers: { 'cache-control': 'no-store' },
    });
  } catch (error) {
    return errorResponse(error);
  }
});
