/**
 * POST /api/admin/queue/retry `{ ids, customerId? }` — dead-lettered messages back to pending and
 * processed at once → `{ retried, delivered }` (ids delivered now; the rest wait for the queue worker).
 * Staff members name one of their customers (`customerId`); only its messages are retried.
 */
import { requireStaffApi } from '@/lib/auth/current-staff';
import { getConfig } from '@/lib/config';
import { retryAndDeliver, retrySchema } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const POST = observed('/api/admin/queue/retry', async (request: Request) => {
  try {
    const staff = await requireStaffApi(request);
    const input = parseWith(retrySchema, await readJson(request, 64 * 1024));
    const config = getConfig();
    return Response.json(await retryAndDeliver(await resolveDb(config), config, staff, input));
  } catch (error) {
    return errorResponse(error);
  }
});
