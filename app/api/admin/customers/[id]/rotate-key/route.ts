/**
 * POST /api/admin/customers/<id>/rotate-key `{ publicKey }` — replace the widget key (the old one
 * stops working at once in this process, within WIDGET_CUSTOMER_CACHE_MS in other instances: see
 * lib/customers.ts cachedByPublicKey). The new key comes with the request, so a repeated request
 * sets the same key.
 */
import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { requireAdmin } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { rotateKey, rotateKeySchema } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { observed } from '@/lib/metrics';

export const POST = observed('/api/admin/customers/[id]/rotate-key', async (request: Request, { params }: { params: Promise<{ id: string }> }) => {
  try {
    requireAdmin(await requireStaffApi(request));
    const { id } = parseWith(z.object({ id: z.guid() }), await params);
    const { publicKey } = parseWith(rotateKeySchema, await readJson(request, 4 * 1024));
    return Response.json(await rotateKey(await resolveDb(getConfig()), id, publicKey));
  } catch (error) {
    return errorResponse(error);
  }
});
