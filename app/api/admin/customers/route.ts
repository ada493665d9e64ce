/** POST /api/admin/customers — create a customer (idempotent on the client's `id`); GET — every customer. */
import { staffRoute } from '@/lib/auth/route';
import { createCustomer, customerInputSchema, listCustomers } from '@/lib/customers';

export const dynamic = 'force-dynamic';

export const POST = staffRoute(
  { route: '/api/admin/customers', access: 'admin', customer: 'none', body: customerInputSchema },
  async ({ service, body }) => {
    const result = await createCustomer(service, body);
    return Response.json(result, { status: result.created ? 201 : 200 });
  },
);

export const GET = staffRoute({ route: '/api/admin/customers', access: 'admin', customer: 'none' }, async ({ service }) =>
  Response.json(await listCustomers(service), { headers: { 'cache-control': 'no-store' } }),
);
