/**
 * The port the queue answers messages through. The processor (processor.ts) hands every claimed
 * message to a responder and delivers its answer together with the message, atomically; the
 * implementations (lib/chat/responder.ts) depend on this interface, not the other way round.
 */
import type { ClaimedMessage } from './types';

export interface Response {
  reply?: { content: string; metadata?: Record<string, unknown> };
  /** Hand the conversation to staff (it shows as waiting in the dashboard). */
  needsStaff: boolean;
}

export interface Responder {
  /**
   * Passages of the customer's crawled pages this responder answers from, per message: a caller
   * that claims messages together with their search (the widget's send, lib/widget sendMessages)
   * fetches this many and hands them over as `message.passages`. Absent: none are fetched.
   */
  readonly passages?: number;
  respond(message: ClaimedMessage): Promise<Response>;
}

/**
 * Longest reply delivered, in characters. messages.content holds at most 10,000 (a longer reply is
 * refused by the database); a chat answer needs far fewer, and a model that rambles — or a crawled
 * passage that runs on — is cut rather than lost.
 */
export const MAX_REPLY_CHARS = 4000;

/** `content` cut to `max` characters at a word boundary (when one is near), marked with an ellipsis. */
export function capReply(content: string, max = MAX_REPLY_CHARS): string {
  const chars = Array.from(content);
  if (chars.length <= max) return content;
  const head = chars.slice(0, max - 1).join('');
  const boundary = head.search(/\s\S*$/);
  const cut = boundary > head.length * 0.8 ? head.slice(0, boundary) : head;
  return `${cut.trimEnd()}…`;
}
