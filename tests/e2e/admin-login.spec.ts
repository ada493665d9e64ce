import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { E2E_DATA_DIR } from './server';

const adminToken = () => fs.readFileSync(path.join(E2E_DATA_DIR, 'admin-token'), 'utf8').trim();

test('the dashboard and admin APIs refuse requests without a session', async ({ page, request }) => {
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();

  const api = await request.get('/api/admin/customers', { maxRedirects: 0 });
  expect(api.status()).toBe(401);
  expect(await api.json()).toEqual({ error: { code: 'unauthorized', message: 'sign in at /login' } });

  const forged = await request.get('/dashboard', {
    maxRedirects: 0,
    headers: { cookie: 'omniops_session=v1.99999999999999.abc.forged' },
  });
  expect(forged.status()).toBe(303);
});

test('a wrong admin token is refused; the right one opens the dashboard; sign-out ends the session', async ({
  page,
  context,
}) => {
  await page.goto('/dashboard');
  await page.getByLabel('Admin token').fill('not-the-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  // Next.js's route announcer is a second (empty) role=alert once the page has hydrated.
  await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toHaveText('That admin token is not valid.');
  await expect(page).toHaveURL(/\/login\?/);

  await page.getByLabel('Admin token').fill(adminToken());
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await expect(page.getByLabel('Storage tier health')).toContainText('pglite');

  const session = (await context.cookies()).find((c) => c.name === 'omniops_session');
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  expect((await context.cookies()).find((c) => c.name === 'omniops_session')).toBeUndefined();
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('the JSON login answers 401 for a wrong token and 400 for a malformed body', async ({ request }) => {
  const wrong = await request.post('/api/auth/login', { data: { token: 'nope' } });
  expect(wrong.status()).toBe(401);
  const malformed = await request.post('/api/auth/login', { data: { token: 42 } });
  expect(malformed.status()).toBe(400);
  const ok = await request.post('/api/auth/login', { data: { token: adminToken() } });
  expect(ok.status()).toBe(200);
  expect(ok.headers()['set-cookie']).toMatch(/omniops_session=v1\..*HttpOnly; SameSite=Lax/);
});

test('admin sign-in is rate limited per client address', async ({ request }) => {
  const headers = { 'x-forwarded-for': '198.51.100.77' };
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) {
    statuses.push((await request.post('/api/auth/login', { headers, data: { token: `guess-${i}` } })).status());
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses[10]).toBe(429);
  // Another address is not affected.
  expect((await request.post('/api/auth/login', { headers: { 'x-forwarded-for': '198.51.100.78' }, data: { token: 'x' } })).status()).toBe(401);
});
