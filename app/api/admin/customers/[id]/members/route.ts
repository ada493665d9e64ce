/**
 * GET /api/admin/customers/<id>/members — the customer's staff `[{ userId, email, role, createdAt }]`;
 * POST `{ email, role? = 'agent' }` — make the Supabase Auth account with that e-mail a member,
 * inviting the address when it has none (201; a repeat 200 and changes nothing; the same answer
 * whether or not the account existed). Administrators and the customer's owners and admins (only
 * owners make owners); 409 without Supabase Auth.
 */
import { z } from 'zod';
import { addMemberByEmail, addMemberSchema, listMembers } from '@/lib/auth/members';
import { staffRoute } from '@/lib/auth/route';

export const dynamic = 'force-dynamic';

const params = z.object({ id: z.guid() });

export const GET = staffRoute(
  { route: '/api/admin/customers/[id]/members', access: 'manager', customer: 'required', params },
  async ({ service, config, params }) => Response.json(await listMembers(service, config, params.id), { headers: { 'cache-control': 'no-store' } }),
);

export const POST = staffRoute(
  { route: '/api/admin/customers/[id]/members', access: 'manager', customer: 'required', params, body: addMemberSchema, maxBytes: 4 * 1024 },
  async ({ service, config, staff, params, body }) => {
    const result = await addMemberByEmail(service, config, staff, params.id, body);
    return Response.json(result, { status: result.created ? 201 : 200 });
  },
);
