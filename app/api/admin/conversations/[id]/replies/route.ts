/**
 * POST /api/admin/conversations/<id>/replies `{ content, clientMessageId }` — a staff reply (an
 * administrator, or a staff member of the conversation's customer: another customer's is 404). It
 * reaches the visitor's widget on its next poll.
 */
import { z } from 'zod';
import { staffRoute } from '@/lib/auth/route';
import { replyInputSchema } from '@/lib/conversations';
import { staffReply } from '@/lib/dashboard';

export const POST = staffRoute(
  { route: '/api/admin/conversations/[id]/replies', access: 'member', customer: 'resource', params: z.object({ id: z.guid() }), body: replyInputSchema },
  async ({ service, staff, params, body }) => {
    const result = await staffReply(service, staff, params.id, body);
    return Response.json(result, { status: result.created ? 201 : 200 });
  },
);
