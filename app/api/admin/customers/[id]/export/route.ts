import { z } from 'zod';
import { requireStaffApi } from '@/lib/auth/current-staff';
import { requireAdmin } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { errorResponse, parseWith, readJson } from '@/lib/http';
import { openExportDownload } from '@/lib/transfer/download';
import { observed } from '@/lib/metrics';

export const dynamic = 'force-dynamic';
// A large customer takes a while to stream; Vercel stops a function after maxDuration.
export const maxDuration = 300;

/**
 * POST /api/admin/customers/:id/export `{}` — the customer's data as a transfer file (NDJSON),
 * streamed as a download (admin session required: proxy.ts). A POST with a JSON body, not a GET
 * link: it counts as an export in the customer's usage (429 past the plan's monthly limit), so a
 * cross-site page must not be able to trigger it (the CSRF check of requireStaffApi). 404 for an
 * unknown customer. `deps` lets tests pass their database.
 */
export const POST = observed('/api/admin/customers/[id]/export', async (request: Request, context: { params: Promise<{ id: string }> }, deps: { db?: Db } = {}) => {
  try {
    requireAdmin(await requireStaffApi(request));
    const { id } = parseWith(z.object({ id: z.guid() }), await context.params);
    parseWith(z.object({}), await readJson(request, 1024));
    const { filename, contentType, body } = await openExportDownload(deps.db ?? (await resolveDb(getConfig())), id);
    return new Response(body, {
      headers: {
        'content-type': contentType,
        'content-disposition': `attachment; filename="${filename}"`,
        'cache-control': 'no-store',
      },
    });
  } catch (error) {
    return errorResponse(error, { 'cache-control': 'no-store' });
  }
});
