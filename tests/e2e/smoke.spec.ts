import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { CRON_SECRET, E2E_DATA_DIR } from './server';

test('the home page renders and shows the service up; the storage tiers only to signed-in staff', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Omniops' })).toBeVisible();
  await expect(page.getByLabel('Service status')).toHaveText('Service: up');
  // No backend, address or version for an anonymous visitor (tests/security/health.test.ts).
  await expect(page.locator('main')).not.toContainText('pglite');
  await expect(page.getByText(/schema \d{14}/)).toHaveCount(0);

  const token = fs.readFileSync(path.join(E2E_DATA_DIR, 'admin-token'), 'utf8').trim();
  // A client address of its own: sign-in is limited per address, and other specs sign in too.
  expect((await page.request.post('/api/auth/login', { headers: { 'x-forwarded-for': '198.51.100.203' }, data: { token } })).status()).toBe(200);
  await page.goto('/');
  const tiers = page.getByRole('definition').first();
  await expect(tiers).toContainText('ok');
  await expect(tiers).toContainText('pglite');
  await expect(page.getByText(/schema \d{14}/)).toBeVisible();
  expect(errors).toEqual([]);
});

test('/api/health says up in the browser, and reports pglite ok to monitoring (CRON_SECRET)', async ({ page }) => {
  const response = await page.goto('/api/health');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['cache-control']).toBe('no-store');
  expect(response?.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(JSON.parse((await page.locator('body').innerText()).trim())).toEqual({ status: 'up' });
  const detailed = await page.request.get('/api/health', { headers: { authorization: `Bearer ${CRON_SECRET}` } });
  expect(detailed.status()).toBe(200);
  const health = (await detailed.json()) as {
    ok: boolean;
    db: { kind: string; ok: boolean; latencyMs: number; schemaVersion: string };
    cache: { kind: string };
  };
  expect(health).toMatchObject({
    ok: true,
    db: { kind: 'pglite', ok: true, schemaVersion: expect.stringMatching(/^\d{14}$/) },
    cache: { kind: 'memory', degraded: false },
  });
  expect(health.db.latencyMs).toBeGreaterThanOrEqual(0);
});
