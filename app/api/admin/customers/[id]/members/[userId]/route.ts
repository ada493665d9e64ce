/**
 * DELETE /api/admin/customers/<id>/members/<userId> → `{ removed }` — the staff member loses access
 * to the customer at their next request (idempotent: a repeat answers `removed: false`).
 * Administrators and the customer's owners and admins (only owners remove owners).
 */
import { z } from 'zod';
import { removeMember } from '@/lib/auth/members';
import { staffRoute } from '@/lib/auth/route';

export const DELETE = staffRoute(
  { route: '/api/admin/customers/[id]/members/[userId]', access: 'manager', customer: 'required', params: z.object({ id: z.guid(), userId: z.guid() }) },
  async ({ service, staff, params }) => Response.json(await removeMember(service, staff, params.id, params.userId)),
);
