/**
 * The envelope of every widget route: resolve the database, run the operation, answer JSON with
 * the right CORS headers, and map failures (lib/http.ts errorResponse).
 */
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { errorResponse } from '@/lib/http';
import { PREFLIGHT_HEADERS, corsHeaders, widgetRequestOf, type WidgetRequest } from './index';

export async function widgetResponse(
  request: Request,
  run: (ctx: { db: Db; req: WidgetRequest }) => Promise<unknown>,
  /** The answer (even a refusal) is public: let any origin read it. */
  { publicAnswer = false }: { publicAnswer?: boolean } = {},
): Promise<Response> {
  const req = widgetRequestOf(request);
  const crossOrigin = req.origin !== null && req.origin !== req.appOrigin;
  try {
    const body = await run({ db: await resolveDb(getConfig()), req });
    // `run` authorised the request, so a cross-origin caller is on the allow-list.
    return Response.json(body, { headers: { ...corsHeaders(req.origin, crossOrigin), 'cache-control': 'no-store' } });
  } catch (error) {
    return errorResponse(error, corsHeaders(req.origin, crossOrigin && publicAnswer));
  }
}

/** CORS preflight: the actual request is authorised on its own. */
export function preflight(request: Request): Response {
  const origin = request.headers.get('origin');
  return new Response(null, { status: 204, headers: { ...corsHeaders(origin, origin !== null), ...PREFLIGHT_HEADERS } });
}
