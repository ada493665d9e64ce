/**
 * GET /api/cron/<task> — runs one scheduled task for its current schedule slot (Vercel Cron calls
 * these with `Authorization: Bearer $CRON_SECRET`; see vercel.json and lib/cron/tasks.ts).
 * 200 with the outcome (ran, or skipped as a duplicate / overlapping delivery); 500 when the task
 * failed (recorded in cleanup_runs); 401 / 503 when unauthorised / disabled; 404 for an unknown task.
 */
import { z } from 'zod';
import { getConfig, type Config } from '@/lib/config';
import { authorizeCronRequest } from '@/lib/cron/auth';
import { runCronTask } from '@/lib/cron/run';
import { cronTaskNames, getCronTask } from '@/lib/cron/tasks';
import { resolveDb } from '@/lib/db/resolve';
import { HttpError, errorResponse } from '@/lib/http';
import type { Db } from '@/lib/db/types';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';
// Vercel stops a function after maxDuration; a run cut short there is consistent and is taken over
// by a later delivery once its lease expires.
export const maxDuration = 300;

const params = z.object({ task: z.enum(cronTaskNames) });

const noStore = { 'cache-control': 'no-store' };

/** `deps` lets tests run the handler on their own configuration and database; Next.js passes none. */
export const GET = observed('/api/cron/[task]', async (
  request: Request,
  context: { params: Promise<{ task: string }> },
  deps: { config?: Config; db?: Db; now?: Date } = {},
) => {
  try {
    const config = deps.config ?? getConfig();
    authorizeCronRequest(request.headers, config);
    const parsed = params.safeParse(await context.params);
    if (!parsed.success) {
      throw new HttpError(404, 'unknown_task', `[omniops] [cron] unknown task; tasks: ${cronTaskNames.join(', ')}`);
    }
    const db = deps.db ?? (await resolveDb(config));
    const result = await runCronTask(db, getCronTask(parsed.data.task), { config, now: deps.now });
    const failed = result.outcome === 'ran' && result.run.status === 'failed';
    return Response.json(result, { status: failed ? 500 : 200, headers: noStore });
  } catch (error) {
    return errorResponse(error, noStore);
  }
});
