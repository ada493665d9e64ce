/**
 * What answers a visitor's message. The queue processor hands every claimed message to a
 * responder; its answer is delivered together with the message, atomically.
 */
import type { ClaimedMessage } from '@/lib/queue/types';

export interface Response {
  reply?: { content: string; metadata?: Record<string, unknown> };
  /** Hand the conversation to staff (it shows as waiting in the dashboard). */
  needsStaff: boolean;
}

export interface Responder {
  respond(message: ClaimedMessage): Promise<Response>;
}

/**
 * Routes every conversation to staff without an automatic answer: the visitor's messages land in
 * the dashboard's inbox and staff replies reach the widget. (Answers from crawled content plug in
 * here as another Responder.)
 */
export const staffHandoffResponder: Responder = {
  async respond() {
    return { needsStaff: true };
  },
};
