/**
 * The widget-facing API: who may talk to it, and what it does. Route handlers in app/api/widget/
 * only parse and respond; everything here is plain functions of (db, request facts, input).
 *
 * Authorisation: a customer's public key plus the origin of the page the widget is embedded in,
 * which must be on the customer's allow-list. The browser tells us that origin, unforgeably by the
 * embedding page's scripts:
 *   - cross-origin calls (the embed loader on the customer's page, or the customer's own code)
 *     carry it in `Origin`;
 *   - the widget iframe is served from this app, so its calls are same-origin; it sends the
 *     embedding origin it reads from `location.ancestorOrigins` / `document.referrer` in
 *     `X-Omniops-Host-Origin`, and the iframe itself can only be framed by allowed origins
 *     (CSP frame-ancestors, set in proxy.ts).
 * Neither stops a non-browser client from sending any header it likes: that is what the limits of
 * lib/widget/limits.ts (keyed on the client's address, which it cannot choose) and idempotency are
 * for.
 */
import { z } from 'zod';
import { cachedByPublicKey, publicKeySchema, type Customer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { HttpError, clientIp, requestOrigin } from '@/lib/http';
import { createLogger } from '@/lib/log';
import {
  clientMessageIdSchema,
  enqueueAndClaim,
  getSession,
  messageTextSchema,
  sessionIdSchema,
  type ConversationMessage,
  type QueueStatus,
} from '@/lib/queue';
import { answerClaimed } from '@/lib/queue/processor';
import type { Responder } from '@/lib/queue/responder';
import type { WidgetCustomer } from './limits';

const log = createLogger('widget');

/** Largest accepted request body (413 beyond). @default 64 KiB */
export const MAX_BODY_BYTES = 64 * 1024;

export { publicKeySchema };

/** The snippet a customer pastes into their site: the loader from this app's origin, with their key. */
export function embedSnippet(appOrigin: string, publicKey: string): string {
  return `<script src="${appOrigin}/embed.js" data-customer="${publicKey}" async></script>`;
}

export interface WidgetRequest {
  /**
   * The calling page's origin: `Origin`, or — browsers omit `Origin` on same-origin GETs — the
   * origin of `Referer`.
   */
  origin: string | null;
  /** `X-Omniops-Host-Origin`: the page embedding the widget iframe. */
  hostOrigin: string | null;
  /** This app's own origin. */
  appOrigin: string;
  /** The client's address (for per-IP rate limits). */
  ip: string;
}

function originOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export function widgetRequestOf(request: Request): WidgetRequest {
  return {
    origin: request.headers.get('origin') ?? originOf(request.headers.get('referer')),
    hostOrigin: request.headers.get('x-omniops-host-origin'),
    appOrigin: requestOrigin(request.headers, request.url),
    ip: clientIp(request),
  };
}

/**
 * The origin the widget is embedded in: the request's own origin, unless it comes from our iframe
 * (then the page around it, as the iframe reports it). A request from one of our own pages without
 * that report (the /demo page's loader) is embedded in our own origin.
 */
type Origins = Pick<WidgetRequest, 'origin' | 'hostOrigin' | 'appOrigin'>;

export function embeddingOrigin(req: Origins): string | null {
  if (req.origin === null) return req.hostOrigin;
  return req.origin === req.appOrigin ? (req.hostOrigin ?? req.origin) : req.origin;
}

/**
 * The customer of `key` (with its monthly message allowance, for lib/widget/limits.ts), if the
 * widget is embedded on one of its allowed origins; 403 otherwise. Read from the process's cache of
 * customers by key (lib/customers.ts cachedByPublicKey, WIDGET_CUSTOMER_CACHE_MS), so an open
 * widget's sends and polls do not ask the database who the key belongs to.
 */
export async function authorizeWidget(db: Db, key: string, req: Origins): Promise<WidgetCustomer> {
  const customer = await cachedByPublicKey(db, key, (publicKey) => db.rpc<WidgetCustomer | null>('widget_customer', { publicKey }));
  if (!customer) throw new HttpError(403, 'unknown_key', 'key: no widget has this key');
  const embedding = embeddingOrigin(req);
  if (!embedding || !customer.allowedOrigins.includes(embedding)) {
    throw new HttpError(
      403,
      'origin_not_allowed',
      `this widget is not allowed on ${embedding ?? 'a page whose origin is unknown'}`,
    );
  }
  return customer;
}

/**
 * The CSP `frame-ancestors` of the widget iframe: only the customer's allowed origins may frame it
 * (`'none'` for an unknown key or a customer without origins).
 */
export function frameAncestors(customer: Customer | null): string {
  const origins = customer?.allowedOrigins ?? [];
  return origins.length > 0 ? origins.join(' ') : "'none'";
}

/**
 * CORS headers for a cross-origin caller. `Origin` is echoed only when it is one of the
 * customer's allowed origins (or, for the loader's config call, always: that answer is public).
 */
export function corsHeaders(origin: string | null, allowed: boolean): Record<string, string> {
  if (!origin || !allowed) return { vary: 'Origin' };
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}

export const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'GET, POST, OPTIONS',
  'access-control-allow-headers': 'content-type, x-omniops-host-origin',
  'access-control-max-age': '600',
};

// ---- messages -------------------------------------------------------------------------------

export const sendSchema = z.object({
  key: publicKeySchema,
  sessionId: sessionIdSchema,
  messages: z
    .array(
      z.object({
        clientMessageId: clientMessageIdSchema,
        text: messageTextSchema,
        sentAt: z.iso.datetime({ offset: true }).optional(),
      }),
    )
    .min(1, 'at least one message')
    .max(100, 'at most 100 messages per request'),
});

export interface SentMessage {
  clientMessageId: string;
  status: QueueStatus;
  position: number;
}

/**
 * Queue the visitor's messages (idempotently on clientMessageId), then try to process up to
 * `inline` of the new ones right away (lib/widget/limits.ts limitSend decides how many): one round
 * trip enqueues them, claims those and finds their passages (widget_send), a second delivers the
 * answers (and a third fails what could not be answered). Once this returns, every message is
 * durably queued: the others, and any whose inline processing failed, are left for the queue worker.
 */
export async function sendMessages(
  db: Db,
  customer: Customer,
  input: z.output<typeof sendSchema>,
  responder: Responder,
  { inline = input.messages.length }: { inline?: number } = {},
): Promise<{ conversationId: string; messages: SentMessage[] }> {
  const queued = await enqueueAndClaim(
    db,
    {
      customerId: customer.id,
      sessionId: input.sessionId,
      messages: input.messages.map((m) => ({
        clientMessageId: m.clientMessageId,
        data: { text: m.text, ...(m.sentAt ? { sentAt: m.sentAt } : {}) },
      })),
    },
    { inline, passages: responder.passages },
  );
  let delivered = new Set<string>();
  if (queued.claimed.length > 0) {
    try {
      delivered = new Set((await answerClaimed(db, responder, queued.claimed)).delivered);
    } catch (error) {
      // Already durable; the process-queue task picks these up.
      log.warn(`inline processing failed, left queued: ${(error as Error).message}`);
    }
  }
  return {
    conversationId: queued.conversationId,
    messages: queued.messages.map((m) => ({
      clientMessageId: m.clientMessageId,
      status: delivered.has(m.id) ? 'completed' : m.status,
      position: m.position,
    })),
  };
}

// ---- session state --------------------------------------------------------------------------

export const pollSchema = z.object({
  key: publicKeySchema,
  sessionId: sessionIdSchema,
  after: z.coerce.number().int().min(0).default(0),
});

export interface WidgetMessage {
  role: ConversationMessage['role'];
  content: string;
  clientMessageId: string | null;
  position: number;
  createdAt: string;
}

export interface WidgetSessionState {
  /**
   * Changes when the server switches between its primary database and the outage fallback.
   * Positions are per database: on a change, read the conversation again from position 0.
   */
  generation: number;
  conversationStatus: 'open' | 'needs_staff' | 'closed' | null;
  /** Conversation messages after the requested position, oldest first (at most 200). */
  messages: WidgetMessage[];
  /**
   * The visitor's messages the server holds but has not delivered yet. Without their last error:
   * that is the operators' (the dashboard's queue page), and names internals — a model endpoint's
   * answer, a database constraint — an anonymous poller has no business reading.
   */
  outbox: { clientMessageId: string; status: QueueStatus; position: number }[];
}

/** A session's conversation after position `after`, and its undelivered messages. */
export async function sessionState(
  db: Db,
  customer: Customer,
  sessionId: string,
  after: number,
): Promise<WidgetSessionState> {
  const state = await getSession(db, { customerId: customer.id, sessionId, afterPosition: after });
  return {
    // Read after the call: had the database switched meanwhile, the client reads again from 0.
    generation: db.generation ?? 0,
    conversationStatus: state.conversationStatus,
    messages: state.messages.map(({ role, content, clientMessageId, position, createdAt }) => ({
      role,
      content,
      clientMessageId,
      position,
      createdAt,
    })),
    outbox: state.outbox.map(({ clientMessageId, status, position }) => ({ clientMessageId, status, position })),
  };
}
