/**
 * The crawl-job admin API and the `scrape` cron route, called the way Next.js calls them, on a real
 * PostgreSQL database, with an admin session cookie (staff members' access: staff-auth.test.ts):
 * start a crawl of the fixture site, watch it finish, page through its results, and check the stats
 * the API shows against them.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as getJob } from '@/app/api/admin/crawl-jobs/[id]/route';
import { POST as cancel } from '@/app/api/admin/crawl-jobs/[id]/cancel/route';
import { GET as getResults } from '@/app/api/admin/crawl-jobs/[id]/results/route';
import { GET as listJobs, POST as createJob } from '@/app/api/admin/crawl-jobs/route';
import { GET as cron } from '@/app/api/cron/[task]/route';
import { getPersistentJobManager, type CrawlJob, type JobResult } from '@/lib/jobs/persistent-job-manager';
import { startCrawl } from '@/lib/jobs';
import { adminCookie, resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';
import { startFixtureSite, statsOfResults, type FixtureSite } from '../support/fixture-site';
import { newCustomer } from '../support/fixtures';

const CRON_SECRET = 'crawl-routes-cron-secret-0123456789';
const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');

/** A request of a signed-in administrator, from the dashboard's origin (the CSRF check of lib/http.ts). */
const admin = (url: string, init: RequestInit = {}) =>
  new Request(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>), cookie: adminCookie(ADMIN_TOKEN), origin: new URL(url).origin },
  });
const json = (body: unknown) =>
  admin('http://localhost/api/admin/crawl-jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const withId = (id: string) => ({ params: Promise.resolve({ id }) });

async function waitForJob(id: string, status: CrawlJob['status']): Promise<CrawlJob> {
  for (let i = 0; i < 300; i += 1) {
    const job = (await (await getJob(admin(`http://localhost/api/admin/crawl-jobs/${id}`), withId(id))).json()) as CrawlJob;
    if (job.status === status) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`job ${id} did not become ${status}`);
}

async function allResults(id: string): Promise<JobResult[]> {
  const results: JobResult[] = [];
  let afterId: number | null = 0;
  while (afterId !== null) {
    const response = await getResults(admin(`http://localhost/api/admin/crawl-jobs/${id}/results?limit=5&afterId=${afterId}`), withId(id));
    expect(response.status).toBe(200);
    const page = (await response.json()) as { results: JobResult[]; nextAfterId: number | null };
    results.push(...page.results);
    afterId = page.nextAfterId;
  }
  return results;
}

describe('crawl-job API and the scrape cron route (postgres)', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let customerId: string;
  let site: FixtureSite;

  beforeAll(async () => {
    pg = await migratedPostgres();
    customerId = await newCustomer(pg.db, { plan: 'pro' });
    site = await startFixtureSite();
    // The fixture site is on 127.0.0.1, which a production server refuses to crawl unless allowed.
    await useAppEnv({
      DATABASE_URL: pg.database.url,
      DB_FALLBACK: 'off',
      CRON_SECRET,
      NODE_ENV: 'production',
      OMNIOPS_ADMIN_TOKEN: ADMIN_TOKEN,
      CRAWL_ALLOW_PRIVATE_HOSTS: '127.0.0.1',
    });
  });
  afterAll(async () => {
    await resetApp();
    await site?.close();
    await pg?.dispose();
  });

  it('answers 401 without a session (each handler checks, not only proxy.ts)', async () => {
    const anonymous = (url: string) => new Request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ customerId, startUrl: `${site.origin}/` }) });
    expect((await createJob(anonymous('http://localhost/api/admin/crawl-jobs'))).status).toBe(401);
    expect((await listJobs(new Request('http://localhost/api/admin/crawl-jobs'))).status).toBe(401);
    expect((await cancel(new Request('http://localhost/'), withId('any-job'))).status).toBe(401);
    expect((await (await listJobs(admin(`http://localhost/api/admin/crawl-jobs?customerId=${customerId}`))).json()).total).toBe(0);
  });

  it('refuses bad input with a message naming the field, and an unknown customer with 404', async () => {
    const bad = await createJob(json({ customerId, startUrl: 'ftp://example.com/' }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toBe('startUrl: must be an http(s) URL');
    const tooMany = await createJob(json({ customerId, startUrl: `${site.origin}/`, maxPages: 100_000 }));
    expect(tooMany.status).toBe(400);
    expect((await tooMany.json()).error.message).toMatch(/^maxPages: /);
    const unknown = await createJob(json({ customerId: '00000000-0000-4000-8000-000000000000', startUrl: `${site.origin}/` }));
    expect(unknown.status).toBe(404);
    expect((await listJobs(admin(`http://localhost/api/admin/crawl-jobs?customerId=${customerId}`))).status).toBe(200);
    expect((await (await listJobs(admin(`http://localhost/api/admin/crawl-jobs?customerId=${customerId}`))).json()).total).toBe(0);
  });

  it('starts a crawl that runs at once; the job shows stats that match its results', async () => {
    const created = await createJob(json({ customerId, jobId: 'api-crawl-1', startUrl: `${site.origin}/`, maxDepth: 2 }));
    expect(created.status).toBe(201);
    // The client's key again: the same job, 200.
    const again = await createJob(json({ customerId, jobId: 'api-crawl-1', startUrl: `${site.origin}/`, maxDepth: 2 }));
    expect(again.status).toBe(200);
    expect((await again.json()).created).toBe(false);

    const job = await waitForJob('api-crawl-1', 'completed');
    const results = await allResults('api-crawl-1');
    expect(results).toHaveLength(16);
    expect(new Set(results.map((r) => r.url)).size).toBe(16);
    expect(job.stats).toMatchObject(statsOfResults(results));
    const timed = results.filter((r) => r.processingTimeMs !== null);
    expect(Number(job.stats.avgProcessingTimeMs)).toBeCloseTo(timed.reduce((s, r) => s + r.processingTimeMs!, 0) / timed.length, 1);

    const failed = await getResults(admin('http://localhost/api/admin/crawl-jobs/api-crawl-1/results?status=failed'), withId('api-crawl-1'));
    expect(((await failed.json()).results as JobResult[]).map((r) => r.httpStatus).sort()).toEqual([404, 500]);
    const listed = await (await listJobs(admin(`http://localhost/api/admin/crawl-jobs?customerId=${customerId}&status=completed`))).json();
    expect(listed).toMatchObject({ total: 1, jobs: [{ jobId: 'api-crawl-1', stats: { totalPages: 16 } }] });

    // A finished job cannot be cancelled; an unknown one is 404.
    expect((await cancel(admin('http://localhost/'), withId('api-crawl-1'))).status).toBe(409);
    expect((await cancel(admin('http://localhost/'), withId('no-such-job'))).status).toBe(404);
    expect((await getJob(admin('http://localhost/'), withId('no-such-job'))).status).toBe(404);
  });

  it('the scrape cron task crawls queued jobs and counts the pages it recorded', async () => {
    // Queued without the API's immediate start: as if the server had restarted before crawling it.
    await startCrawl(await getPersistentJobManager(), { customerId, jobId: 'cron-crawl-1', startUrl: `${site.origin}/about`, jobType: 'single_page' });
    const response = await cron(
      new Request('http://localhost/api/cron/scrape', { headers: { authorization: `Bearer ${CRON_SECRET}` } }),
      { params: Promise.resolve({ task: 'scrape' }) },
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ outcome: 'ran', run: { status: 'succeeded', rowsAffected: 1 } });
    expect(await waitForJob('cron-crawl-1', 'completed')).toMatchObject({ stats: { totalPages: 1, successfulPages: 1 } });
  });

  it('cancels a queued crawl', async () => {
    await startCrawl(await getPersistentJobManager(), { customerId, jobId: 'cancel-me', startUrl: `${site.origin}/` });
    const response = await cancel(admin('http://localhost/'), withId('cancel-me'));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'cancelled', errorMessage: 'cancelled by staff' });
  });
});
