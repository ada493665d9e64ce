import { getConfig } from '@/lib/config';
import { HttpError, errorResponse } from '@/lib/http';
import { mayReadMetrics, observed, renderMetrics } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

/** Prometheus scrape endpoint (lib/metrics.ts); 401 in production without the token or a session. */
export const GET = observed('/api/metrics', async (request: Request) => {
  if (!mayReadMetrics(getConfig(), request)) {
    return errorResponse(
      new HttpError(401, 'unauthorized', '[omniops] [metrics] send Authorization: Bearer <OMNIOPS_METRICS_TOKEN> or sign in as admin'),
      { 'www-authenticate': 'Bearer realm="omniops-metrics"' },
    );
  }
  const { body, contentType } = await renderMetrics();
  return new Response(body, { headers: { 'content-type': contentType, 'cache-control': 'no-store' } });
});
