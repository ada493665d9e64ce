/**
 * POST /api/admin/customers/<id>/rotate-key `{ publicKey }` — replace the widget key (the old one
 * stops working at once in this process, within WIDGET_CUSTOMER_CACHE_MS in other instances: see
 * lib/customers.ts cachedByPublicKey). The new key comes with the request, so a repeated request
 * sets the same key.
 */
import { z } from 'zod';
import { staffRoute } from '@/lib/auth/route';
import { rotateKey, rotateKeySchema } from '@/lib/customers';

export const POST = staffRoute(
  { route: '/api/admin/customers/[id]/rotate-key', access: 'admin', customer: 'none', params: z.object({ id: z.guid() }), body: rotateKeySchema, maxBytes: 4 * 1024 },
  async ({ service, params, body }) => Response.json(await rotateKey(service, params.id, body.publicKey)),
);
