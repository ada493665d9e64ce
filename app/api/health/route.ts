import { staffOfRequest } from '@/lib/auth/current-staff';
import { getConfig } from '@/lib/config';
import { presentsCronSecret } from '@/lib/cron/auth';
import { getHealth, publicHealth } from '@/lib/health';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

/**
 * `{ status: 'up' | 'down' }` (200 / 503) for anyone; the full report (lib/health.ts) for signed-in
 * staff and for monitoring that sends `Authorization: Bearer <CRON_SECRET>`. A session that cannot
 * be checked (the database holding memberships is down) gets the public answer.
 */
export const GET = observed('/api/health', async (request: Request) => {
  const config = getConfig();
  const health = await getHealth(config);
  const detailed = presentsCronSecret(request.headers, config) || (await staffOfRequest(request).catch(() => null)) !== null;
  return Response.json(detailed ? health : publicHealth(health), {
    status: health.ok ? 200 : 503,
    headers: { 'cache-control': 'no-store' },
  });
});
