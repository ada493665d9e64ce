/**
 * Conversations from the staff side: typed wrappers over the conversation_* RPCs.
 */
import { z } from 'zod';
import type { Db } from '@/lib/db/types';
import { clientMessageIdSchema, type ConversationMessage } from '@/lib/queue';

export const replyInputSchema = z.object({
  content: z.string().trim().min(1, 'must not be empty').max(10_000, 'at most 10000 characters'),
  /** Makes the reply idempotent: sending it again adds nothing. */
  clientMessageId: clientMessageIdSchema,
});

/** Add a staff (or bot) reply to a conversation; `created` is false for a repeat. */
export function replyToConversation(
  db: Db,
  input: z.output<typeof replyInputSchema> & { conversationId: string; customerId?: string; role?: 'staff' | 'bot' },
): Promise<{ message: ConversationMessage; created: boolean }> {
  return db.rpc('conversation_reply', input);
}
