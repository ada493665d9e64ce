/**
 * DELETE /api/admin/customers/<id>/members/<userId> → `{ removed }` — the staff member loses access
 * to the customer at their next request (idempotent: a repeat answers `removed: false`).
 * Administrators and the customer's owners and admins (only owners remove owners).
 */
import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { removeMember } from '@/lib/auth/members';
import { requireManager } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const DELETE = observed(
  '/api/admin/customers/[id]/members/[userId]',
  async (request: Request, { params }: { params: Promise<{ id: string; userId: string }> }) => {
    try {
      const staff = await requireStaffApi(request);
      const { id, userId } = parseWith(z.object({ id: z.guid(), userId: z.guid() }), await params);
      requireManager(staff, id);
      return Response.json(await removeMember(await resolveDb(getConfig()), staff, id, userId));
    } catch (error) {
      return errorResponse(error);
    }
  },
);
