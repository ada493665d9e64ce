/**
 * The widget's HTTP calls to /api/widget/*, and the classification the outbox relies on:
 * acknowledged, retry later (network failure, timeout, 408, 429, 5xx — honouring Retry-After), or
 * rejected for good (any other 4xx).
 */
import type { SendOutcome } from './storage/persistent-message-queue';
import type { QueueMessage } from './storage/message-queue';

/**
 * How long the widget waits for any answer before it gives up on a request (and, for a send,
 * resends later). The server answers widget requests before this (WIDGET_DEADLINE_MS, lib/config.ts).
 */
export const WIDGET_CLIENT_TIMEOUT_MS = 10_000;

export interface WidgetEndpoint {
  /** e.g. https://chat.example.com */
  baseUrl: string;
  key: string;
  /** The origin of the page embedding the widget (X-Omniops-Host-Origin). */
  hostOrigin: string | null;
  /** Per-request timeout. @default WIDGET_CLIENT_TIMEOUT_MS */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Retry-After as milliseconds (delta-seconds or an HTTP date), if present and sane. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3600) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.min(Math.max(0, date - now), 3_600_000);
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    return body.error?.message ?? `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

/** Classify an HTTP answer that is not a success. */
export async function classifyFailure(response: Response): Promise<SendOutcome & { kind: 'retry' | 'reject' }> {
  const status = response.status;
  const error = await errorMessage(response);
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: 'retry', error, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
  }
  return { kind: 'reject', error };
}

export class WidgetApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'WidgetApiError';
  }
}

export function createWidgetApi(endpoint: WidgetEndpoint) {
  const doFetch = endpoint.fetch ?? fetch;
  const headers = {
    'content-type': 'application/json',
    ...(endpoint.hostOrigin ? { 'x-omniops-host-origin': endpoint.hostOrigin } : {}),
  };
  const call = (path: string, init: RequestInit = {}) =>
    doFetch(`${endpoint.baseUrl}${path}`, {
      ...init,
      headers,
      signal: AbortSignal.timeout(endpoint.timeoutMs ?? WIDGET_CLIENT_TIMEOUT_MS),
      cache: 'no-store',
    });
  const json = async <T>(response: Response): Promise<T> => {
    if (response.ok) return (await response.json()) as T;
    let code = 'http_error';
    let message = `HTTP ${response.status}`;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new WidgetApiError(response.status, code, message);
  };

  return {
    /** Start or resume a session; throws WidgetApiError (e.g. 403 origin_not_allowed). */
    async session<T>(sessionId: string | null): Promise<T> {
      return json<T>(
        await call('/api/widget/session', {
          method: 'POST',
          body: JSON.stringify({ key: endpoint.key, ...(sessionId ? { sessionId } : {}) }),
        }),
      );
    },

    /** The conversation after `after` and the outbox, for polling. */
    async poll<T>(sessionId: string, after: number): Promise<T> {
      const query = new URLSearchParams({ key: endpoint.key, sessionId, after: String(after) });
      return json<T>(await call(`/api/widget/messages?${query}`));
    },

    /** The outbox's sender: one POST per batch, classified. Never throws. */
    async send(sessionId: string, messages: QueueMessage[]): Promise<SendOutcome> {
      let response: Response;
      try {
        response = await call('/api/widget/messages', {
          method: 'POST',
          body: JSON.stringify({
            key: endpoint.key,
            sessionId,
            messages: messages.map((m) => ({
              clientMessageId: m.key,
              text: m.value,
              sentAt: new Date(m.timestamp).toISOString(),
            })),
          }),
        });
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
        return {
          kind: 'retry',
          // A timeout is ambiguous — the server may have stored the messages; resending with the same keys is safe.
          error: timedOut ? 'timed out; will resend (safe: messages are deduplicated)' : 'network unreachable',
        };
      }
      if (!response.ok) return classifyFailure(response);
      const body = (await response.json()) as { messages: { clientMessageId: string }[] };
      return { kind: 'ok', acknowledged: body.messages.map((m) => m.clientMessageId) };
    },
  };
}

export type WidgetApi = ReturnType<typeof createWidgetApi>;
