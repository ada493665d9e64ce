/**
 * A crawl against the running app (`npm start`, embedded database): started from the admin API for
 * the demo customer, of the fixture website served by this test on 127.0.0.1; the job's stats must
 * equal what its results add up to, and the demo widget then answers a visitor's question from the
 * crawled page, with its URL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { DEMO_CUSTOMER_ID } from '@/lib/customers';
import type { CrawlJob, JobResult } from '@/lib/jobs/persistent-job-manager';
import { FIXTURE_ANSWER, startFixtureSite, statsOfResults, type FixtureSite } from '../support/fixture-site';
import { E2E_DATA_DIR } from './server';

let site: FixtureSite;
test.beforeAll(async () => {
  site = await startFixtureSite();
});
test.afterAll(async () => {
  await site?.close();
});

test('a crawl started from the API shows stats that match its results, and the widget answers from the crawled pages', async ({
  page,
  request,
  baseURL,
}) => {
  const jobId = `e2e-crawl-${Date.now()}`;
  const start = { customerId: DEMO_CUSTOMER_ID, jobId, startUrl: `${site.origin}/`, maxDepth: 2 };
  expect((await request.post('/api/admin/crawl-jobs', { data: start, maxRedirects: 0 })).status()).toBe(401);

  const token = fs.readFileSync(path.join(E2E_DATA_DIR, 'admin-token'), 'utf8').trim();
  // A client address of its own: sign-in is limited per address, and other specs sign in too.
  expect((await request.post('/api/auth/login', { headers: { 'x-forwarded-for': '198.51.100.201' }, data: { token } })).status()).toBe(200);
  // With the app's origin, as the dashboard sends it (admin mutations refuse requests without one).
  const created = await request.post('/api/admin/crawl-jobs', { data: start, headers: { origin: new URL(baseURL!).origin } });
  expect(created.status()).toBe(201);
  expect(((await created.json()) as { job: CrawlJob }).job.status).toBe('queued');

  // The app starts crawling right after answering (no wait for the next scrape tick).
  await expect
    .poll(async () => ((await (await request.get(`/api/admin/crawl-jobs/${jobId}`)).json()) as CrawlJob).status, { timeout: 60_000 })
    .toBe('completed');
  const job = (await (await request.get(`/api/admin/crawl-jobs/${jobId}`)).json()) as CrawlJob;

  const results: JobResult[] = [];
  let afterId: number | null = 0;
  while (afterId !== null) {
    const page = (await (await request.get(`/api/admin/crawl-jobs/${jobId}/results?limit=7&afterId=${afterId}`)).json()) as {
      results: JobResult[];
      nextAfterId: number | null;
    };
    results.push(...page.results);
    afterId = page.nextAfterId;
  }
  expect(results).toHaveLength(16);
  expect(job.stats).toMatchObject(statsOfResults(results));
  expect(job.stats).toMatchObject({ successfulPages: 10, failedPages: 2, skippedPages: 4 });

  const listed = await request.get(`/api/admin/crawl-jobs?customerId=${DEMO_CUSTOMER_ID}&status=completed`);
  expect(((await listed.json()) as { jobs: CrawlJob[] }).jobs.map((j) => j.jobId)).toContain(jobId);

  // The visitor asks; the answer comes from the crawled About page, with its address.
  const demo = await (await request.get('/demo')).text();
  const key = /pk_[A-Za-z0-9]+/.exec(demo)![0];
  await page.goto(`/widget?key=${key}`);
  await page.getByLabel('Message').fill('What are your opening hours on Saturday?');
  await page.getByRole('button', { name: 'Send' }).click();
  const answer = page.getByText(`${site.origin}/about`);
  await expect(answer).toBeVisible({ timeout: 15_000 });
  await expect(answer).toContainText('open Monday to Saturday from 8am to 6pm');
  expect(FIXTURE_ANSWER).toContain('open Monday to Saturday from 8am to 6pm');
});
