import { expect, test } from '@playwright/test';

test('the home page renders and shows the embedded database healthy', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1, name: 'Omniops' })).toBeVisible();
  const tiers = page.getByRole('definition').first();
  await expect(tiers).toContainText('ok');
  await expect(tiers).toContainText('pglite');
  await expect(page.getByText(/schema \d{14}/)).toBeVisible();
  expect(errors).toEqual([]);
});

test('/api/health reports pglite ok in the browser', async ({ page }) => {
  const response = await page.goto('/api/health');
  expect(response?.status()).toBe(200);
  expect(response?.headers()['cache-control']).toBe('no-store');
  expect(response?.headers()['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  const health = JSON.parse((await page.locator('body').innerText()).trim()) as {
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
