/**
 * POST /api/admin/queue/retry `{ ids, customerId? }` — dead-lettered messages back to pending and
 * processed at once → `{ retried, delivered }` (ids delivered now; the rest wait for the queue worker).
 * Staff members name one of their customers (`customerId`); only its messages are retried.
 */
import { staffRoute } from '@/lib/auth/route';
import { retryAndDeliver, retrySchema } from '@/lib/dashboard';

export const POST = staffRoute(
  { route: '/api/admin/queue/retry', access: 'member', customer: 'optional', body: retrySchema },
  async ({ service, config, staff, body }) => Response.json(await retryAndDeliver(service, config, staff, body)),
);
