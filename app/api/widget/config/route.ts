import { z } from 'zod';
import { authorizeWidget, publicKeySchema } from '@/lib/widget';
import { limitRead } from '@/lib/widget/limits';
import { preflight, widgetResponse } from '@/lib/widget/http';
import { parseWith } from '@/lib/http';
import { observed } from '@/lib/metrics';

/** Called by embed.js on the customer's page: may the widget run here, and where is it? */
export const GET = observed('/api/widget/config', async (request: Request) => {
  return widgetResponse(
    request,
    async ({ db, req }) => {
      const { key } = parseWith(z.object({ key: publicKeySchema }), {
        key: new URL(request.url).searchParams.get('key') ?? undefined,
      });
      const customer = await authorizeWidget(db, key, req);
      await limitRead(req.ip, customer.id);
      return { name: customer.name, widgetUrl: `${req.appOrigin}/widget?key=${encodeURIComponent(key)}` };
    },
    { publicAnswer: true },
  );
});

export const OPTIONS = observed('/api/widget/config', preflight);
