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

test('a signed-in admin downloads a customer export; without a session it is refused', async ({ request, baseURL }) => {
  // The export is a same-origin JSON POST, as the dashboard's download button sends it (it counts
  // against the plan, so no link another site could trigger).
  const post = (url: string, headers: Record<string, string> = { origin: new URL(baseURL!).origin }) =>
    request.post(url, { headers, data: {}, maxRedirects: 0 });
  const anonymous = await post(exportPath);
  expect(anonymous.status()).toBe(401);

  const token = fs.readFileSync(path.join(E2E_DATA_DIR, 'admin-token'), 'utf8').trim();
  expect((await request.post('/api/auth/login', { data: { token } })).status()).toBe(200);

  expect((await request.get(exportPath)).status()).toBe(405);
  expect((await post(exportPath, { origin: 'https://evil.example' })).status()).toBe(403);
  const download = await post(exportPath);
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

  expect((await post('/api/admin/customers/not-a-uuid/export')).status()).toBe(400);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});

test('the dashboard’s Download export button saves the file (a same-origin POST from the page)', async ({ page }) => {
  const token = fs.readFileSync(path.join(E2E_DATA_DIR, 'admin-token'), 'utf8').trim();
  // A client address of its own: sign-in is limited per address, and other specs sign in too.
  expect((await page.request.post('/api/auth/login', { headers: { 'x-forwarded-for': '198.51.100.202' }, data: { token } })).status()).toBe(200);
  await page.goto(`/dashboard/customers/${DEMO_CUSTOMER_ID}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download export' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^omniops-.*\.ndjson$/);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-e2e-export-')), download.suggestedFilename());
  await download.saveAs(file);
  const { header } = await verifyFile(file);
  expect(header).toMatchObject({ customerId: DEMO_CUSTOMER_ID });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});
