import { z } from 'zod';
import { replyInputSchema, replyToConversation } from '@/lib/conversations';
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

/** A staff reply to a conversation (admin session required: proxy.ts). It reaches the visitor's widget on its next poll. */
export const POST = observed('/api/admin/conversations/[id]/replies', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    const { id } = parseWith(z.object({ id: z.guid() }), await params);
    const input = parseWith(replyInputSchema, await readJson(request, 64 * 1024));
    const result = await replyToConversation(await resolveDb(getConfig()), { ...input, conversationId: id });
    return Response.json(result, { status: result.created ? 201 : 200 });
  } catch (error) {
    return errorResponse(error);
  }
});
