/**
 * PATCH /api/admin/customers/<id> — change name, allowed origins, plan or retention days (a repeat
 * changes nothing). Staff members: the owners and admins of their own customers, and not the plan (403).
 */
import { z } from 'zod';
import { staffRoute } from '@/lib/auth/route';
import { customerUpdateSchema } from '@/lib/customers';
import { staffUpdateCustomer } from '@/lib/dashboard';

export const PATCH = staffRoute(
  { route: '/api/admin/customers/[id]', access: 'manager', customer: 'required', params: z.object({ id: z.guid() }), body: customerUpdateSchema },
  async ({ service, staff, params, body }) => Response.json(await staffUpdateCustomer(service, staff, params.id, body)),
);
