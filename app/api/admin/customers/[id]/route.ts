/** PATCH /api/admin/customers/<id> — change name, allowed origins, plan or retention days (a repeat changes nothing). */
import { z } from 'zod';
import { getConfig } from '@/lib/config';
import { customerUpdateSchema, updateCustomer } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const PATCH = observed('/api/admin/customers/[id]', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const { id } = parseWith(z.object({ id: z.guid() }), await params);
    const input = parseWith(customerUpdateSchema, await readJson(request, 64 * 1024));
    return Response.json(await updateCustomer(await resolveDb(getConfig()), id, input));
  } catch (error) {
    return errorResponse(error);
  }
});
