import crypto from 'node:crypto';
import { z } from 'zod';
import { parseWith, readJson } from '@/lib/http';
import { sessionIdSchema } from '@/lib/queue';
import { MAX_BODY_BYTES, authorizeWidget, publicKeySchema, sessionState } from '@/lib/widget';
import { limitRead } from '@/lib/widget/limits';
import { preflight, widgetResponse } from '@/lib/widget/http';
import { observed } from '@/lib/metrics';

const sessionSchema = z.object({ key: publicKeySchema, sessionId: sessionIdSchema.optional() });

/** Start a session (a new id when none is given) or resume one: its conversation and outbox. */
export const POST = observed('/api/widget/session', async (request: Request) => {
  return widgetResponse(request, async ({ db, req }) => {
    const input = parseWith(sessionSchema, await readJson(request, MAX_BODY_BYTES));
    const customer = await authorizeWidget(db, input.key, req);
    const sessionId = input.sessionId ?? crypto.randomBytes(16).toString('base64url');
    await limitRead(req.ip, customer.id, sessionId);
    return { sessionId, customer: { name: customer.name }, ...(await sessionState(db, customer, sessionId, 0)) };
  });
});

export const OPTIONS = observed('/api/widget/session', preflight);
