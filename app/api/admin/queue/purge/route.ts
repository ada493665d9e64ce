/** POST /api/admin/queue/purge — delete completed messages past their 24 h retention now (what the daily task does). */
import { requireStaffApi } from '@/lib/auth/current-staff';
import { requireAdmin } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { purgeExpired } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const POST = observed('/api/admin/queue/purge', async (request: Request) => {
  try {
    requireAdmin(await requireStaffApi(request));
    return Response.json({ deleted: await purgeExpired(await resolveDb(getConfig())) });
  } catch (error) {
    return errorResponse(error);
  }
});
