/**
 * The acceptance test of the ephemeral tier: the app started with `npm start` and REDIS_URL set
 * keeps answering — never a 5xx — while its Redis goes away, says so in /api/health, and recovers
 * when Redis is back. "Redis" is a TCP proxy in front of the real server (which other runs share,
 * so it is never stopped itself): cutting the proxy is, for the app, Redis stopping.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test, type APIRequestContext } from '@playwright/test';
import { loadConfig } from '@/lib/config';
import { startTcpProxy } from '../support/tcp-proxy';
import { CRON_SECRET, E2E_REDIS_APP_PORT as redisAppPort, E2E_REDIS_DATA_DIR, E2E_REDIS_PROXY_PORT as redisProxyPort } from './server';

const base = `http://127.0.0.1:${redisAppPort}`;

interface Health {
  ok: boolean;
  cache: { kind: string; degraded: boolean; since: string };
}

async function health(request: APIRequestContext): Promise<Health> {
  // The details are for monitoring (CRON_SECRET) and staff; anyone else sees up/down.
  const response = await request.get(`${base}/api/health`, { headers: { authorization: `Bearer ${CRON_SECRET}` } });
  expect(response.status()).toBe(200);
  return (await response.json()) as Health;
}

/** Hit the app's pages and API `rounds` times; every answer must be below 500. */
async function noServerErrors(request: APIRequestContext, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const path of ['/api/health', '/']) {
      const response = await request.get(`${base}${path}`);
      expect(response.status(), `${path} during the outage`).toBeLessThan(500);
    }
  }
}

test('stopping Redis while the app runs never produces a 5xx, and the app recovers', async ({ request, page }) => {
  const target = new URL(loadConfig().redisUrl ?? 'redis://127.0.0.1:6379');
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) }, redisProxyPort);
  try {
    await expect.poll(async () => (await health(request)).cache, { timeout: 15_000 }).toMatchObject({ kind: 'redis', degraded: false });
    await noServerErrors(request, 5);

    await proxy.cut();
    await noServerErrors(request, 10);
    await expect.poll(async () => (await health(request)).cache.degraded, { timeout: 15_000 }).toBe(true);
    expect((await health(request)).ok).toBe(true);
    // The home page shows the storage tiers to signed-in staff only.
    const token = fs.readFileSync(path.join(E2E_REDIS_DATA_DIR, 'admin-token'), 'utf8').trim();
    const login = await page.request.post(`${base}/api/auth/login`, { headers: { 'x-forwarded-for': '198.51.100.210' }, data: { token } });
    expect(login.status()).toBe(200);
    await page.goto(`${base}/`);
    await expect(page.getByText('degraded — serving from memory')).toBeVisible();
    await noServerErrors(request, 10);

    await proxy.restore();
    await expect.poll(async () => (await health(request)).cache.degraded, { timeout: 15_000 }).toBe(false);
    await noServerErrors(request, 5);
  } finally {
    await proxy.close();
  }
});
