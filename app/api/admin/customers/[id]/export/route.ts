/**
 * POST /api/admin/customers/:id/export `{}` — the customer's data as a transfer file (NDJSON),
 * streamed as a download (administrators). A POST with a JSON body, not a GET link: it counts as an
 * export in the customer's usage (429 past the plan's monthly limit), so a cross-site page must not
 * be able to trigger it (the envelope's CSRF check). 404 for an unknown customer.
 */
import { z } from 'zod';
import { staffRoute } from '@/lib/auth/route';
import { openExportDownload } from '@/lib/transfer/download';

export const dynamic = 'force-dynamic';
// A large customer takes a while to stream; Vercel stops a function after maxDuration.
export const maxDuration = 300;

export const POST = staffRoute(
  {
    route: '/api/admin/customers/[id]/export',
    access: 'admin',
    customer: 'none',
    params: z.object({ id: z.guid() }),
    body: z.object({}),
    maxBytes: 1024,
    errorHeaders: { 'cache-control': 'no-store' },
  },
  async ({ service, params }) => {
    const { filename, contentType, body } = await openExportDownload(service, params.id);
    return new Response(body, {
      headers: {
        'content-type': contentType,
        'content-disposition': `attachment; filename="${filename}"`,
        'cache-control': 'no-store',
      },
    });
  },
);
