/**
 * The widget's customers by key, cached per process (lib/customers.ts cachedByPublicKey), on real
 * PostgreSQL: a rotated key or a removed origin stops working at once in the process that made the
 * change (through the admin routes), and within WIDGET_CUSTOMER_CACHE_MS in another one (another
 * `Db` on the same database, as another server instance has).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PATCH as updateRoute } from '@/app/api/admin/customers/[id]/route';
import { POST as rotateRoute } from '@/app/api/admin/customers/[id]/rotate-key/route';
import { POST as sendRoute } from '@/app/api/widget/messages/route';
import { getConfig } from '@/lib/config';
import { createCustomer, newPublicKey, rotateKey, type Customer } from '@/lib/customers';
import { PostgresDb } from '@/lib/db/postgres';
import { resolveDb } from '@/lib/db/resolve';
import { authorizeWidget } from '@/lib/widget';
import { adminCookie, resetApp, useAppEnv } from '../support/app';
import { deleteKeys, uniquePrefix } from '../support/cache';
import { migratedPostgres } from '../support/databases';

const SHOP = 'https://shop.example';
const OTHER = 'https://other.example';
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
const prefix = uniquePrefix('customer-cache');

let pg: Awaited<ReturnType<typeof migratedPostgres>>;

beforeAll(async () => {
  pg = await migratedPostgres();
});
afterAll(async () => {
  await resetApp();
  await deleteKeys(inject('redisUrl'), prefix);
  await pg?.dispose();
});

function appEnv(cacheMs: number) {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: pg.database.url,
    DB_FALLBACK: 'off',
    REDIS_URL: inject('redisUrl'),
    CACHE_KEY_PREFIX: prefix,
    OMNIOPS_ADMIN_TOKEN: ADMIN_TOKEN,
    WIDGET_CUSTOMER_CACHE_MS: String(cacheMs),
  };
}

async function send(key: string, origin = SHOP): Promise<{ status: number; code?: string }> {
  const response = await sendRoute(
    new Request('http://127.0.0.1:3000/api/widget/messages', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin },
      body: JSON.stringify({ key, sessionId: crypto.randomBytes(12).toString('hex'), messages: [{ clientMessageId: 'm', text: 'hello' }] }),
    }),
  );
  const body = (await response.json()) as { error?: { code: string } };
  return { status: response.status, code: body.error?.code };
}

const admin = (method: string, url: string, body: object) =>
  new Request(url, {
    method,
    headers: { 'content-type': 'application/json', cookie: adminCookie(ADMIN_TOKEN), origin: new URL(url).origin },
    body: JSON.stringify(body),
  });

describe('in the process that changes the customer', () => {
  let customer: Customer;

  beforeAll(async () => {
    // A minute: only forgetting explains a change seen at once.
    await useAppEnv(appEnv(60_000));
    ({ customer } = await createCustomer(await resolveDb(getConfig()), { name: 'Cached Shop', allowedOrigins: [SHOP, OTHER], plan: 'pro' }));
  });

  it('refuses a rotated key at once (admin route) and accepts the new one', async () => {
    expect(await send(customer.publicKey)).toEqual({ status: 200 });
    const publicKey = newPublicKey();
    const url = `http://localhost/api/admin/customers/${customer.id}/rotate-key`;
    const rotated = await rotateRoute(admin('POST', url, { publicKey }), { params: Promise.resolve({ id: customer.id }) });
    expect(rotated.status).toBe(200);
    expect(await send(customer.publicKey)).toEqual({ status: 403, code: 'unknown_key' });
    expect(await send(publicKey)).toEqual({ status: 200 });
    customer = { ...customer, publicKey };
  });

  it('refuses a removed origin at once (admin route)', async () => {
    expect(await send(customer.publicKey, OTHER)).toEqual({ status: 200 });
    const url = `http://localhost/api/admin/customers/${customer.id}`;
    const updated = await updateRoute(admin('PATCH', url, { allowedOrigins: [SHOP] }), { params: Promise.resolve({ id: customer.id }) });
    expect(updated.status).toBe(200);
    expect(await send(customer.publicKey, OTHER)).toEqual({ status: 403, code: 'origin_not_allowed' });
    expect(await send(customer.publicKey, SHOP)).toEqual({ status: 200 });
  });
});

describe('in another process', () => {
  const TTL_MS = 400;
  let other: PostgresDb;

  beforeAll(async () => {
    await useAppEnv(appEnv(TTL_MS));
    other = new PostgresDb(pg.database.url, { max: 2 });
  });
  afterAll(async () => {
    await other?.close();
  });

  it(`refuses a rotated key within WIDGET_CUSTOMER_CACHE_MS (${TTL_MS} ms)`, async () => {
    const app = await resolveDb(getConfig());
    const { customer } = await createCustomer(app, { name: 'Elsewhere Shop', allowedOrigins: [SHOP] });
    const req = { origin: SHOP, hostOrigin: null, appOrigin: 'http://127.0.0.1:3000' };
    await expect(authorizeWidget(other, customer.publicKey, req)).resolves.toMatchObject({ id: customer.id });
    const rotatedAt = Date.now();
    await rotateKey(app, customer.id);
    // The rotating process at once; the other one serves its copy until it expires, then asks again.
    await expect(authorizeWidget(app, customer.publicKey, req)).rejects.toMatchObject({ status: 403, code: 'unknown_key' });
    let refusedAfter: number | null = null;
    while (Date.now() - rotatedAt < TTL_MS * 5) {
      const outcome = await authorizeWidget(other, customer.publicKey, req).then(
        () => 'accepted',
        (error: { code?: string }) => error.code,
      );
      if (outcome === 'unknown_key') {
        refusedAfter = Date.now() - rotatedAt;
        break;
      }
      expect(outcome).toBe('accepted');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(refusedAfter).not.toBeNull();
    expect(refusedAfter!).toBeLessThanOrEqual(TTL_MS + 100);
  });
});
