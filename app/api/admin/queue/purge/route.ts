/** POST /api/admin/queue/purge — delete completed messages past their 24 h retention now (what the daily task does). */
import { staffRoute } from '@/lib/auth/route';
import { purgeExpired } from '@/lib/dashboard';

export const POST = staffRoute({ route: '/api/admin/queue/purge', access: 'admin', customer: 'none' }, async ({ service }) =>
  Response.json({ deleted: await purgeExpired(service) }),
);
