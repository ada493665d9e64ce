import { createResponder } from '@/lib/chat';
import { getConfig } from '@/lib/config';
import { parseWith, readJson } from '@/lib/http';
import { MAX_BODY_BYTES, authorizeWidget, pollSchema, sendMessages, sendSchema, sessionState } from '@/lib/widget';
import { limitRead, limitSend } from '@/lib/widget/limits';
import { preflight, widgetResponse } from '@/lib/widget/http';
import { observed } from '@/lib/metrics';

/** Send a batch of the visitor's messages (idempotent on clientMessageId). */
export const POST = observed('/api/widget/messages', async (request: Request) => {
  return widgetResponse(request, async ({ db, req }) => {
    const input = parseWith(sendSchema, await readJson(request, MAX_BODY_BYTES));
    const customer = await authorizeWidget(db, input.key, req);
    const { inline } = await limitSend(req.ip, customer, input.sessionId, input.messages.length);
    return sendMessages(db, customer, input, createResponder(db, getConfig()), { inline });
  });
});

/** The conversation after position `after` (replies included) and the undelivered outbox. */
export const GET = observed('/api/widget/messages', async (request: Request) => {
  return widgetResponse(request, async ({ db, req }) => {
    const query = parseWith(pollSchema, Object.fromEntries(new URL(request.url).searchParams));
    const customer = await authorizeWidget(db, query.key, req);
    await limitRead(req.ip, customer.id, query.sessionId);
    return sessionState(db, customer, query.sessionId, query.after);
  });
});

export const OPTIONS = observed('/api/widget/messages', preflight);
