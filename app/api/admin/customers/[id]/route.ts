/**
 * PATCH /api/admin/customers/<id> — change name, allowed origins, plan or retention days (a repeat
 * changes nothing). Staff members: their own customers only, and not the plan (403).
 */
import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { getConfig } from '@/lib/config';
import { customerUpdateSchema } from '@/lib/customers';
import { staffUpdateCustomer } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const PATCH = observed('/api/admin/customers/[id]', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const staff = await requireStaffApi(request);
    const { id } = parseWith(z.object({ id: z.guid() }), await params);
    const input = parseWith(customerUpdateSchema, await readJson(request, 64 * 1024));
    return Response.json(await staffUpdateCustomer(await resolveDb(getConfig()), staff, id, input));
  } catch (error) {
    return errorResponse(error);
  }
});
