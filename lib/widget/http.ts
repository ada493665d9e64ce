/**
 * The envelope of every widget route: resolve the database, run the operation, answer JSON with
 * the right CORS headers, and map failures (lib/http.ts errorResponse).
 *
 * Every widget request is answered within WIDGET_DEADLINE_MS (default 8 s), before the widget's
 * own 10 s timeout (lib/chat-widget/transport.ts) gives up on it: work still running then (a
 * database that stopped answering, a failover in progress) is answered 503 + Retry-After, which
 * the widget's outbox keeps and resends. The work itself goes on; a send is idempotent on its
 * clientMessageId, so the resend finds it done.
 */
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { HttpError, errorResponse } from '@/lib/http';
import { PREFLIGHT_HEADERS, corsHeaders, widgetRequestOf, type WidgetRequest } from './index';

export async function widgetResponse(
  request: Request,
  run: (ctx: { db: Db; req: WidgetRequest }) => Promise<unknown>,
  /** The answer (even a refusal) is public: let any origin read it. */
  { publicAnswer = false }: { publicAnswer?: boolean } = {},
): Promise<Response> {
  const req = widgetRequestOf(request);
  const crossOrigin = req.origin !== null && req.origin !== req.appOrigin;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const config = getConfig();
    const work = (async () => run({ db: await resolveDb(config), req }))();
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HttpError(503, 'unavailable', 'temporarily unavailable, retry shortly', { 'retry-after': '5' })),
        config.widgetDeadlineMs,
      );
    });
    const body = await Promise.race([work, deadline]);
    // `run` authorised the request, so a cross-origin caller is on the allow-list.
    return Response.json(body, { headers: { ...corsHeaders(req.origin, crossOrigin), 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error, corsHeaders(req.origin, crossOrigin && publicAnswer));
  } finally {
    clearTimeout(timer);
  }
}

/** CORS preflight: the actual request is authorised on its own. */
export function preflight(request: Request): Response {
  const origin = request.headers.get('origin');
  return new Response(null, { status: 204, headers: { ...corsHeaders(origin, origin !== null), ...PREFLIGHT_HEADERS } });
}
