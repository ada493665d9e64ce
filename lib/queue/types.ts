/** Shapes returned by the queue_* RPCs (see supabase/migrations/20261122020000_message_queue_api.sql). */

export type QueueStatus = 'pending' | 'processing' | 'completed' | 'failed';

export interface MessageData {
  text: string;
  /** When the visitor pressed Send (client clock; informational). */
  sentAt?: string;
  metadata?: Record<string, unknown>;
}

export interface QueuedMessage {
  id: string;
  customerId: string;
  sessionId: string;
  conversationId: string | null;
  clientMessageId: string;
  data: MessageData;
  status: QueueStatus;
  /** Failed attempts so far (failures and expired claims). */
  retryCount: number;
  /** Order within the session (and the conversation), assigned at enqueue. */
  position: number;
  availableAt: string;
  lockedUntil: string | null;
  lastError: string | null;
  createdAt: string;
  processedAt: string | null;
}

/** What queue_enqueue answers for each message. */
export interface EnqueuedMessage {
  id: string;
  clientMessageId: string;
  status: QueueStatus;
  position: number;
  /** False when the message was already queued (a retry of the same clientMessageId). */
  created: boolean;
}

/** A passage of a customer's crawled page that matches a message (crawl_pages_search). */
export interface Passage {
  url: string;
  title: string;
  passage: string;
  rank: number;
  /** Share of the question's words the page contains (0..1). */
  coverage: number;
}

/** What a worker gets for each claimed message. */
export type ClaimedMessage = Pick<
  QueuedMessage,
  'id' | 'customerId' | 'sessionId' | 'clientMessageId' | 'data' | 'retryCount' | 'position'
> & {
  /**
   * The best passages for the message's text, best first, when they were found together with the
   * claim (widget_send, for a responder's `passages`); absent, a responder searches itself.
   */
  passages?: Passage[];
};

export type MessageRole = 'visitor' | 'bot' | 'staff' | 'system';

export interface ConversationMessage {
  id: string;
  conversationId: string;
  role: MessageRole;
  content: string;
  clientMessageId: string | null;
  position: number;
  metadata: Record<string, unknown>;
  createdAt: string;
}

export interface SessionState {
  conversationId: string | null;
  conversationStatus: 'open' | 'needs_staff' | 'closed' | null;
  /** Conversation messages after the requested position, oldest first. */
  messages: ConversationMessage[];
  /** The session's queued messages not yet completed (pending, processing, failed). */
  outbox: QueuedMessage[];
}

export interface QueueStats {
  pending: number;
  processing: number;
  completed: number;
  failed: number;
}
