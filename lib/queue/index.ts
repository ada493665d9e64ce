/**
 * The server-side message queue: typed wrappers over the queue_* RPCs, with the zod schemas every
 * entry point validates input with. All writes are idempotent on the client's message id.
 */
import { z } from 'zod';
import type { Db } from '@/lib/db/types';
import type { ClaimedMessage, EnqueuedMessage, QueueStats, QueuedMessage, SessionState } from './types';

export type * from './types';

/** Attempts before a message is dead-lettered. @default 5 */
export const MAX_RETRIES = 5;

export const sessionIdSchema = z
  .string()
  .min(8)
  .max(128)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');
export const clientMessageIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : and - only');
/** Text a person typed. NUL is refused here: PostgreSQL text and jsonb cannot hold it. */
export const messageTextSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(4000, 'at most 4000 characters')
  .refine((text) => !text.includes('\u0000'), 'must not contain NUL characters');

export const enqueueInputSchema = z.object({
  customerId: z.guid(),
  sessionId: sessionIdSchema,
  messages: z
    .array(
      z.object({
        clientMessageId: clientMessageIdSchema,
        data: z.object({
          text: messageTextSchema,
          sentAt: z.iso.datetime({ offset: true }).optional(),
        }),
      }),
    )
    .min(1, 'at least one')
    .max(100, 'at most 100 per request'),
});
export type EnqueueInput = z.input<typeof enqueueInputSchema>;

export interface EnqueueResult {
  conversationId: string;
  /** One per distinct clientMessageId, in input order. */
  messages: EnqueuedMessage[];
}

export function enqueueMessages(db: Db, input: EnqueueInput): Promise<EnqueueResult> {
  return db.rpc('queue_enqueue', enqueueInputSchema.parse(input));
}

export interface EnqueueAndClaimResult extends EnqueueResult {
  /** The new messages claimed for the caller to answer now (with their passages when asked for). */
  claimed: ClaimedMessage[];
}

/**
 * Enqueue (as enqueueMessages) and, in the same round trip, claim up to `inline` of the messages
 * this call created, each with its top `passages` search results (widget_send). A claim or search
 * that fails there leaves the messages pending for the worker (`claimed` is then empty); the
 * enqueue stands either way.
 */
export function enqueueAndClaim(
  db: Db,
  input: EnqueueInput,
  { inline, passages = 0 }: { inline: number; passages?: number },
): Promise<EnqueueAndClaimResult> {
  return db.rpc('widget_send', { ...enqueueInputSchema.parse(input), inline, passages, maxRetries: MAX_RETRIES });
}

export interface ClaimOptions {
  /** @default 10 */
  limit?: number;
  /** How long a claim hides the message from other workers. @default 30 */
  visibilityTimeoutSeconds?: number;
  /** Claim only these messages (e.g. the ones a request just enqueued). */
  ids?: string[];
  /** Previously claimed messages to mark completed in the same round trip. */
  complete?: string[];
  /** @default MAX_RETRIES */
  maxRetries?: number;
}

export function claimMessages(db: Db, options: ClaimOptions = {}): Promise<ClaimedMessage[]> {
  return db.rpc('queue_claim', { maxRetries: MAX_RETRIES, ...options });
}

export async function completeMessages(db: Db, ids: string[]): Promise<number> {
  return (await db.rpc<{ completed: number }>('queue_complete', { ids })).completed;
}

export function failMessages(
  db: Db,
  failures: { id: string; error: string }[],
  options: { maxRetries?: number; baseDelaySeconds?: number } = {},
): Promise<QueuedMessage[]> {
  return db.rpc('queue_fail', { failures, maxRetries: MAX_RETRIES, ...options });
}

/** Dead letters back to pending (attempts reset); `customerId` restricts to one tenant. */
export function retryMessages(db: Db, ids: string[], customerId?: string): Promise<QueuedMessage[]> {
  return db.rpc('queue_retry', { ids, customerId });
}

export interface Delivery {
  id: string;
  reply?: { content: string; metadata?: Record<string, unknown> };
  /** Mark the conversation as waiting for staff. */
  needsStaff?: boolean;
}

export interface DeliveryOutcome {
  delivered: string[];
  /** Items the database refused, each rolled back alone (the others are delivered all the same). */
  failed: { id: string; error: string }[];
}

export async function deliverMessages(db: Db, items: Delivery[]): Promise<DeliveryOutcome> {
  const outcome = await db.rpc<{ delivered: string[]; failed?: DeliveryOutcome['failed'] }>('queue_deliver', { items });
  return { delivered: outcome.delivered, failed: outcome.failed ?? [] };
}

export function getSession(
  db: Db,
  input: { customerId: string; sessionId: string; afterPosition?: number; limit?: number },
): Promise<SessionState> {
  return db.rpc('queue_session', input);
}

export function queueStats(db: Db, customerId?: string): Promise<QueueStats> {
  return db.rpc('queue_stats', { customerId });
}

