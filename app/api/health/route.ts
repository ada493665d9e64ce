import { getConfig } from '@/lib/config';
import { getHealth } from '@/lib/health';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';

export const GET = observed('/api/health', async () => {
  const health = await getHealth(getConfig());
  return Response.json(health, {
    status: health.ok ? 200 : 503,
    headers: { 'cache-control': 'no-store' },
  });
});
