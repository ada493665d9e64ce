/**
 * GET /api/admin/customers/<id>/members — the customer's staff `[{ userId, email, role, createdAt }]`;
 * POST `{ email, role? = 'agent' }` — make the Supabase Auth account with that e-mail a member,
 * inviting the address when it has none (201; a repeat 200 and changes nothing; the same answer
 * whether or not the account existed). Administrators and the customer's owners and admins (only
 * owners make owners); 409 without Supabase Auth.
 */
import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { addMemberByEmail, addMemberSchema, listMembers } from '@/lib/auth/members';
import { requireManager } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ id: string }> };

export const GET = observed('/api/admin/customers/[id]/members', async (request: Request, { params }: Context) => {
  try {
    const staff = await requireStaffApi(request);
    const { id } = parseWith(z.object({ id: z.guid() }), await params);
    requireManager(staff, id);
    const config = getConfig();
    return Response.json(await listMembers(await resolveDb(config), config, id), { headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error);
  }
});

export const POST = observed('/api/admin/customers/[id]/members', async (request: Request, { params }: Context) => {
  try {
    const staff = await requireStaffApi(request);
    const { id } = parseWith(z.object({ id: z.guid() }), await params);
    requireManager(staff, id);
    const input = parseWith(addMemberSchema, await readJson(request, 4 * 1024));
    const config = getConfig();
    const result = await addMemberByEmail(await resolveDb(config), config, staff, id, input);
    return Response.json(result, { status: result.created ? 201 : 200 });
  } catch (error) {
    return errorResponse(error);
  }
});
