/**
 * Processing: claim messages, ask the responder, then deliver the answered ones (replies capped to
 * MAX_REPLY_CHARS, responder.ts) and fail the rest
 * (exponential backoff, dead letter after MAX_RETRIES) — one round trip for each, whatever the
 * batch size. A worker that dies mid-way leaves its claims to expire and be claimed again.
 */
import type { Db } from '@/lib/db/types';
import { claimMessages, deliverMessages, failMessages, type ClaimOptions, type ClaimedMessage } from './index';
import { capReply, type Responder } from './responder';

export interface ProcessResult {
  claimed: number;
  delivered: string[];
  failed: { id: string; error: string }[];
}

export async function processMessages(
  db: Db,
  responder: Responder,
  options: Omit<ClaimOptions, 'complete'> = {},
): Promise<ProcessResult> {
  return answerClaimed(db, responder, await claimMessages(db, options), options);
}

/**
 * Ask the responder about messages the caller claimed (processMessages, or the widget's send with
 * widget_send), deliver the answered ones and fail the rest.
 */
export async function answerClaimed(
  db: Db,
  responder: Responder,
  claimed: ClaimedMessage[],
  options: Pick<ClaimOptions, 'maxRetries'> = {},
): Promise<ProcessResult> {
  if (claimed.length === 0) return { claimed: 0, delivered: [], failed: [] };
  const outcomes = await Promise.allSettled(claimed.map((m) => responder.respond(m)));
  const answered = claimed.flatMap((m, i) => {
    const outcome = outcomes[i]!;
    if (outcome.status !== 'fulfilled') return [];
    const { reply, ...rest } = outcome.value;
    return [{ id: m.id, ...rest, ...(reply ? { reply: { ...reply, content: capReply(reply.content) } } : {}) }];
  });
  const failed = claimed.flatMap((m, i) => {
    const outcome = outcomes[i]!;
    return outcome.status === 'rejected'
      ? [{ id: m.id, error: `[omniops] [queue] responder failed: ${String((outcome.reason as Error)?.message ?? outcome.reason)}` }]
      : [];
  });
  const outcome = answered.length > 0 ? await deliverMessages(db, answered) : { delivered: [], failed: [] };
  const delivered = outcome.delivered;
  // Refused deliveries fail alone (queue_deliver isolates them) and back off like responder failures.
  failed.push(...outcome.failed);
  if (failed.length > 0) await failMessages(db, failed, { maxRetries: options.maxRetries });
  return { claimed: claimed.length, delivered, failed };
}

export interface DrainOptions {
  /** Stop claiming new batches after this long (a serverless invocation must end in time). */
  budgetMs: number;
  /** Messages per claim. @default 50 */
  batchSize?: number;
  /** Called after each batch with the number of messages it delivered. */
  onBatch?: (delivered: number) => Promise<unknown>;
  now?: () => number;
}

/**
 * Process claimable messages batch after batch until none is left or the budget is spent, and
 * return how many were delivered. Messages being processed elsewhere (inline, by another worker) are
 * skipped, never waited for; what is left over waits for the next run.
 */
export async function drainQueue(db: Db, responder: Responder, options: DrainOptions): Promise<number> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.budgetMs;
  let delivered = 0;
  while (now() < deadline) {
    const batch = await processMessages(db, responder, { limit: options.batchSize ?? 50 });
    delivered += batch.delivered.length;
    await options.onBatch?.(batch.delivered.length);
    if (batch.claimed === 0) break;
  }
  return delivered;
}
