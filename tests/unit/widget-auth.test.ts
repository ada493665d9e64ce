/**
 * Widget authorisation (lib/widget/index.ts: widgetRequestOf, embeddingOrigin, authorizeWidget)
 * without a database: which origin a request is taken to come from, and the refusals' codes and
 * messages. tests/integration/widget.test.ts covers the same on real PostgreSQL through the routes.
 */
import { describe, expect, it } from 'vitest';
import type { Db } from '@/lib/db/types';
import { authorizeWidget, embeddingOrigin, widgetRequestOf } from '@/lib/widget';
import type { WidgetCustomer } from '@/lib/widget/limits';

const APP = 'https://app.omniops.example';
const request = (headers: Record<string, string>) => new Request(`${APP}/api/widget/messages`, { headers });

describe('widgetRequestOf', () => {
  it('takes Origin, else the origin of Referer, else none; the host origin as reported; the app origin from the request', () => {
    expect(widgetRequestOf(request({ origin: 'https://shop.example', referer: 'https://other.example/x' }))).toMatchObject({
      origin: 'https://shop.example',
      hostOrigin: null,
      appOrigin: APP,
    });
    expect(widgetRequestOf(request({ referer: 'https://shop.example/cart?x=1' })).origin).toBe('https://shop.example');
    expect(widgetRequestOf(request({ referer: 'not a url' })).origin).toBeNull();
    expect(widgetRequestOf(request({})).origin).toBeNull();
    expect(widgetRequestOf(request({ 'x-omniops-host-origin': 'https://shop.example' })).hostOrigin).toBe('https://shop.example');
    expect(typeof widgetRequestOf(request({})).ip).toBe('string');
  });
});

describe('embeddingOrigin', () => {
  it('is the calling page, or — from our own iframe or page — the page around it', () => {
    expect(embeddingOrigin({ origin: 'https://shop.example', hostOrigin: 'https://forged.example', appOrigin: APP })).toBe('https://shop.example');
    expect(embeddingOrigin({ origin: APP, hostOrigin: 'https://shop.example', appOrigin: APP })).toBe('https://shop.example');
    expect(embeddingOrigin({ origin: APP, hostOrigin: null, appOrigin: APP })).toBe(APP);
    expect(embeddingOrigin({ origin: null, hostOrigin: 'https://shop.example', appOrigin: APP })).toBe('https://shop.example');
    expect(embeddingOrigin({ origin: null, hostOrigin: null, appOrigin: APP })).toBeNull();
  });
});

describe('authorizeWidget', () => {
  const customer = { id: 'c1', allowedOrigins: ['https://shop.example'], monthlyMessageLimit: 1000 } as unknown as WidgetCustomer;
  const dbWith = (found: WidgetCustomer | null) => {
    const calls: [string, unknown][] = [];
    const db = {
      kind: 'pglite',
      rpc: async (fn: string, args?: object) => {
        calls.push([fn, args]);
        return found;
      },
    } as unknown as Db;
    return { db, calls };
  };

  it('answers the key’s customer on one of its allowed origins', async () => {
    const { db, calls } = dbWith(customer);
    await expect(authorizeWidget(db, 'pk_1', { origin: 'https://shop.example', hostOrigin: null, appOrigin: APP })).resolves.toBe(customer);
    expect(calls).toEqual([['widget_customer', { publicKey: 'pk_1' }]]);
  });

  it('refuses an unknown key, another origin and an unknown origin with 403 and a message that says which', async () => {
    await expect(authorizeWidget(dbWith(null).db, 'pk_x', { origin: 'https://shop.example', hostOrigin: null, appOrigin: APP })).rejects.toMatchObject({
      status: 403,
      code: 'unknown_key',
      message: 'key: no widget has this key',
    });
    const { db } = dbWith(customer);
    await expect(authorizeWidget(db, 'pk_1', { origin: 'https://evil.example', hostOrigin: null, appOrigin: APP })).rejects.toMatchObject({
      status: 403,
      code: 'origin_not_allowed',
      message: 'this widget is not allowed on https://evil.example',
    });
    await expect(authorizeWidget(db, 'pk_1', { origin: null, hostOrigin: null, appOrigin: APP })).rejects.toMatchObject({
      status: 403,
      code: 'origin_not_allowed',
      message: 'this widget is not allowed on a page whose origin is unknown',
    });
  });
});
