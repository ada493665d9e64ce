import { expect, test } from '@playwright/test';
import { CRON_SECRET } from './server';

// The built app, started by `npm start` with the default CRON_MODE=internal: its scheduler ran each
// task for its latest slot at start-up, so a delivery of that slot through the route is a duplicate.

test('/api/cron/<task> needs the Bearer secret', async ({ request }) => {
  for (const headers of [{}, { authorization: 'Bearer not-the-secret-at-all' }] as Record<string, string>[]) {
    const response = await request.get('/api/cron/cleanup-message-queue', { headers });
    expect(response.status()).toBe(401);
    expect(response.headers()['www-authenticate']).toBe('Bearer');
  }
});

test('the internal scheduler has run the slot; a delivery of it through the route is skipped', async ({ request }) => {
  const headers = { authorization: `Bearer ${CRON_SECRET}` };
  for (const task of ['cleanup-message-queue', 'cleanup-scrape-jobs', 'conversation-retention']) {
    const response = await request.get(`/api/cron/${task}`, { headers });
    expect(response.status()).toBe(200);
    expect(response.headers()['cache-control']).toBe('no-store');
    const body = (await response.json()) as { task: string; outcome: string; reason: string; run: { status: string } };
    expect(body).toMatchObject({ task, outcome: 'skipped', reason: 'duplicate' });
    expect(['running', 'succeeded']).toContain(body.run.status);
  }
  expect((await request.get('/api/cron/no-such-task', { headers })).status()).toBe(404);
});
