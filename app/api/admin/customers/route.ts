/** POST /api/admin/customers — create a customer (idempotent on the client's `id`); GET — every customer. */
import { createCustomer, customerInputSchema, listCustomers } from '@/lib/customers';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { requireAdmin } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

export const POST = observed('/api/admin/customers', async (request: Request) => {
  try {
    requireAdmin(await requireStaffApi(request));
    const input = parseWith(customerInputSchema, await readJson(request, 64 * 1024));
    const result = await createCustomer(await resolveDb(getConfig()), input);
    return Response.json(result, { status: result.created ? 201 : 200 });
  } catch (error) {
    return errorResponse(error);
  }
});

export const GET = observed('/api/admin/customers', async (request: Request) => {
  try {
    requireAdmin(await requireStaffApi(request));
    return Response.json(await listCustomers(await resolveDb(getConfig())), { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error);
  }
});
