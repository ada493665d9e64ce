/**
 * The admin export download against the running app (`npm start`, embedded database): refused
 * without a session, and with one a complete, intact transfer file of the demo customer.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { DEMO_CUSTOMER_ID } from '@/lib/customers';
import { verifyFile } from '@/lib/transfer/read';
import { E2E_DATA_DIR } from './server';

const exportPath = `/api/admin/customers/${DEMO_CUSTOMER_ID}/export`;

test('a signed-in admin downloads a customer export; without a session it is refused', async ({ request }) => {
  const anonymous = await request.get(exportPath, { maxRedirects: 0 });
  expect(anonymous.status()).toBe(401);

  const token = fs.readFileSync(path.join(E2E_DATA_DIR, 'admin-token'), 'utf8').trim();
  expect((await request.post('/api/auth/login', { data: { token } })).status()).toBe(200);

  const download = await request.get(exportPath);
  expect(download.status()).toBe(200);
  expect(download.headers()['content-type']).toBe('application/x-ndjson; charset=utf-8');
  expect(download.headers()['content-disposition']).toMatch(/^attachment; filename="omniops-.*\.ndjson"$/);
  const body = await download.body();

  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-e2e-export-')), 'demo.ndjson');
  fs.writeFileSync(file, body);
  const { header, footer } = await verifyFile(file);
  expect(header).toMatchObject({ customerId: DEMO_CUSTOMER_ID, source: { kind: 'pglite' }, options: { secrets: 'redacted' } });
  expect(footer.tables.customers).toMatchObject({ rows: 1 });
  // The demo customer's widget key is not in the file.
  const demo = await request.get('/demo');
  const key = /pk_[A-Za-z0-9]+/.exec(await demo.text())?.[0];
  expect(key).toBeTruthy();
  expect(body.toString('utf8')).not.toContain(key!);

  expect((await request.get('/api/admin/customers/not-a-uuid/export')).status()).toBe(400);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});
