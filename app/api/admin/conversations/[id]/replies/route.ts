import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { replyInputSchema } from '@/lib/conversations';
import { getConfig } from '@/lib/config';
import { staffReply } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

/**
 * A staff reply to a conversation (an admin session, or a staff member of the conversation's
 * customer). It reaches the visitor's widget on its next poll.
 */
export const POST = observed('/api/admin/conversations/[id]/replies', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const staff = await requireStaffApi(request);
    const { id } = parseWith(z.object({ id: z.guid() }), await params);
    const input = parseWith(replyInputSchema, await readJson(request, 64 * 1024));
    const result = await staffReply(await resolveDb(getConfig()), staff, id, input);
    return Response.json(result, { status: result.created ? 201 : 200 });
  } catch (error) {
    return errorResponse(error);
  }
});
