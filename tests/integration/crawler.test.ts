/**
 * The crawl audit trail end to end: the real crawler against a fixture website on 127.0.0.1, the
 * persistent job manager on PostgreSQL and PGlite, the cache on memory and on a real Redis that
 * goes away mid-crawl, and the chat's answers from the crawled pages.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FallbackCache } from '@/lib/cache/fallback';
import { crawlResultsKey, domainDelayKey } from '@/lib/cache/keys';
import { MemoryStore } from '@/lib/cache/memory';
import { createRedisStore } from '@/lib/cache/redis';
import { NO_ANSWER_REPLY, crawledContentResponder, openAiResponder } from '@/lib/chat/responder';
import { startCrawl } from '@/lib/jobs';
import { crawlJob } from '@/lib/jobs/crawler';
import { PersistentJobManager, type JobResult } from '@/lib/jobs/persistent-job-manager';
import { runCrawlJobs } from '@/lib/jobs/runner';
import type { ClaimedMessage } from '@/lib/queue/types';
import { deleteKeys, uniquePrefix, viaPort } from '../support/cache';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { COPY_PATHS, FIXTURE_ANSWER, expectedResults, startFixtureSite, type FixtureSite } from '../support/fixture-site';
import { newCustomer } from '../support/fixtures';
import { startTcpProxy } from '../support/tcp-proxy';

const memoryCache = () => new FallbackCache(undefined, new MemoryStore());

/** The fixture site is on 127.0.0.1: allowed here, as CRAWL_ALLOW_PRIVATE_HOSTS=127.0.0.1 would. */
const egress = { allowPrivateHosts: ['127.0.0.1'] };

const pathOf = (url: string) => new URL(url).pathname;

/** An HTTP server on 127.0.0.1 answering with `handler`; resolves to its origin and a close(). */
async function serve(handler: http.RequestListener): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const question = (customerId: string, text: string): ClaimedMessage => ({
  id: 'm',
  customerId,
  sessionId: 's',
  clientMessageId: 'c',
  data: { text },
  retryCount: 0,
  position: 1,
});

/** The job's stats as SQL computes them from its results: what the trigger must agree with. */
async function aggregate(backend: SqlBackend, jobId: string) {
  const [row] = await backend.admin.query<Record<string, unknown>>(
    `select count(*)::int as "totalPages",
            (count(*) filter (where status = 'success'))::int as "successfulPages",
            (count(*) filter (where status = 'failed'))::int as "failedPages",
            (count(*) filter (where status = 'skipped'))::int as "skippedPages",
            coalesce(sum(bytes), 0)::int as "totalBytes",
            round(avg(processing_time_ms), 2)::float8 as "avgProcessingTimeMs"
       from scrape_job_results where job_id = $1`,
    [jobId],
  );
  return row!;
}

function expectFixtureResults(results: JobResult[], site: FixtureSite) {
  const byPath = new Map(results.map((r) => [pathOf(r.url), r]));
  const copies = COPY_PATHS.map((path) => byPath.get(path)!);
  expect(copies.map((c) => c.status).sort()).toEqual(['skipped', 'success']);
  const kept = copies.find((c) => c.status === 'success')!;
  expect(copies.find((c) => c.status === 'skipped')!.error).toBe(`duplicate content of ${kept.url}`);
  expect(
    results
      .filter((r) => !COPY_PATHS.includes(pathOf(r.url)))
      .map((r) => ({ path: pathOf(r.url), status: r.status, httpStatus: r.httpStatus }))
      .sort((a, b) => a.path.localeCompare(b.path)),
  ).toEqual([...expectedResults].sort((a, b) => a.path.localeCompare(b.path)));
  expect(byPath.get('/old-page')!.error).toBe(`redirected to ${site.origin}/moved`);
  expect(byPath.get('/private/secret')!.error).toBe('disallowed by robots.txt');
  expect(byPath.get('/files/catalog.pdf')!.error).toBe('not HTML (application/pdf)');
  expect(byPath.get('/missing')!.error).toBe('HTTP 404');
  // Only the same site is recorded; the depth limit (2) leaves the tomato page out.
  expect(results.every((r) => r.url.startsWith(site.origin))).toBe(true);
  expect(byPath.has('/products/seeds/tomato')).toBe(false);
}

/** Every page was requested at most once; the disallowed and too-deep ones never. */
function expectEachPageFetchedOnce(site: FixtureSite) {
  const pages = [...site.requests].filter(([path]) => path !== '/robots.txt' && path !== '/sitemap.xml');
  expect(pages.filter(([, count]) => count !== 1)).toEqual([]);
  expect(site.requests.has('/private/secret')).toBe(false);
  expect(site.requests.has('/products/seeds/tomato')).toBe(false);
  expect(pages.map(([path]) => path).sort()).toEqual(
    [...expectedResults.map((r) => r.path).filter((p) => p !== '/private/secret'), ...COPY_PATHS].sort(),
  );
}

describe.each(sqlBackendKinds)('crawl audit trail on %s', (kind) => {
  let backend: SqlBackend;
  let customerId: string;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    customerId = await newCustomer(backend.db, { plan: 'enterprise' });
  });
  afterAll(async () => {
    await backend.dispose();
  });

  it('crawls the fixture site: every page recorded once, stats equal to the results, text searchable', async () => {
    const site = await startFixtureSite();
    try {
      const cache = memoryCache();
      const manager = new PersistentJobManager(backend.db, cache);
      const { job, created } = await startCrawl(manager, { customerId, jobId: 'fixture-full', startUrl: `${site.origin}/`, maxDepth: 2, concurrency: 3 }, { egress });
      expect(created).toBe(true);
      expect(job).toMatchObject({ status: 'queued', domain: new URL(site.origin).host, stats: { totalPages: 0 } });
      // The same jobId again: the same job, not a second crawl.
      expect((await startCrawl(manager, { customerId, jobId: 'fixture-full', startUrl: `${site.origin}/` }, { egress })).created).toBe(false);

      expect(await runCrawlJobs(manager, cache, { budgetMs: 60_000, egress })).toEqual([{ jobId: 'fixture-full', outcome: 'completed' }]);

      const fromPostgres = await manager.getJobResults('fixture-full');
      expectFixtureResults(fromPostgres, site);
      expectEachPageFetchedOnce(site);

      const stored = await manager.getJobFromSupabase('fixture-full');
      expect(stored!.status).toBe('completed');
      const sql = await aggregate(backend, 'fixture-full');
      expect(stored!.stats).toMatchObject({ ...sql, avgProcessingTimeMs: expect.any(Number) });
      expect(Number(stored!.stats.avgProcessingTimeMs)).toBeCloseTo(Number(sql.avgProcessingTimeMs), 2);
      expect(stored!.stats).toMatchObject({ totalPages: 16, successfulPages: 10, failedPages: 2, skippedPages: 4 });
      expect(Number(stored!.stats.pagesPerSecond)).toBeGreaterThan(0);
      // The hot copy agrees with Postgres.
      expect(await manager.getJobStats('fixture-full')).toEqual(stored!.stats);

      const [pages] = await backend.admin.query<{ n: number; searchable: number }>(
        `select count(*)::int as n, (count(*) filter (where search @@ plainto_tsquery('english', 'garden')))::int as searchable
           from scraped_pages where customer_id = $1`,
        [customerId],
      );
      expect(pages!.n).toBe(10);
      expect(pages!.searchable).toBeGreaterThan(0);
    } finally {
      await site.close();
    }
  });

  it('serves stats and results from Postgres once the cache has lost them', async () => {
    const manager = new PersistentJobManager(backend.db, memoryCache());
    // A fresh cache (another process, or Redis after the TTL): nothing cached.
    const job = await manager.getJob('fixture-full');
    expect(job!.stats.totalPages).toBe(16);
    const results = await manager.getJobResults('fixture-full');
    expect(results).toHaveLength(16);
    const failedOnly = await manager.getJobResultsFromSupabase('fixture-full', { status: 'failed' });
    expect(failedOnly.results.map((r) => pathOf(r.url)).sort()).toEqual(['/broken', '/missing']);
  });

  it('resumes a crawl whose worker died midway without fetching any recorded page again', async () => {
    const site = await startFixtureSite();
    try {
      const cache = memoryCache();
      const manager = new PersistentJobManager(backend.db, cache);
      await startCrawl(manager, { customerId, jobId: 'fixture-resume', startUrl: `${site.origin}/`, maxDepth: 2, concurrency: 2 }, { egress });
      const stopping = new AbortController();
      let recorded = 0;
      // The first worker takes a 1 s lease and "dies" after 5 pages: it stops without giving the lease back.
      const first = await manager.claimJob({ leaseSeconds: 1, jobId: 'fixture-resume' });
      const outcome = await crawlJob(first!, {
        manager,
        egress,
        cache,
        leaseSeconds: 1,
        signal: stopping.signal,
        onRecorded: () => {
          recorded += 1;
          if (recorded === 5) stopping.abort();
        },
      });
      expect(outcome).toBe('paused');
      const partial = (await manager.getJobFromSupabase('fixture-resume'))!;
      expect(partial.status).toBe('running');
      expect(partial.stats.totalPages).toBeGreaterThanOrEqual(5);
      expect(partial.stats.totalPages).toBeLessThan(16);
      // Until its lease expires nobody else takes the job.
      expect(await manager.claimJob({ leaseSeconds: 60, jobId: 'fixture-resume' })).toBeNull();
      await new Promise((resolve) => setTimeout(resolve, 1100));

      expect(await runCrawlJobs(manager, cache, { budgetMs: 60_000, egress })).toEqual([{ jobId: 'fixture-resume', outcome: 'completed' }]);
      const job = (await manager.getJobFromSupabase('fixture-resume'))!;
      expect(job.attempts).toBe(2);
      expectFixtureResults(await manager.getJobResults('fixture-resume'), site);
      expectEachPageFetchedOnce(site);
      expect(job.stats).toMatchObject({ totalPages: 16, successfulPages: 10, failedPages: 2, skippedPages: 4 });
    } finally {
      await site.close();
    }
  });

  it('completes with a complete audit trail when Redis goes away during the crawl', async () => {
    const redisUrl = inject('redisUrl');
    const target = new URL(redisUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const prefix = uniquePrefix(`crawl-${kind}`);
    const remote = createRedisStore(viaPort(redisUrl, proxy.port), { keyPrefix: prefix, connectTimeoutMs: 300 });
    const cache = new FallbackCache(remote, new MemoryStore(), { timeoutMs: 150 });
    const site = await startFixtureSite();
    try {
      const manager = new PersistentJobManager(backend.db, cache);
      await startCrawl(manager, { customerId, jobId: 'fixture-redis-down', startUrl: `${site.origin}/`, maxDepth: 2, concurrency: 2 }, { egress });
      let recorded = 0;
      const runs = await runCrawlJobs(manager, cache, {
        budgetMs: 60_000,
        egress,
        onRecorded: () => {
          recorded += 1;
          // Redis disappears after four pages (connections refused from then on).
          if (recorded === 4) void proxy.cut();
        },
      });
      expect(runs).toEqual([{ jobId: 'fixture-redis-down', outcome: 'completed' }]);
      expect(cache.state().degraded).toBe(true);

      const job = (await manager.getJobFromSupabase('fixture-redis-down'))!;
      const counts = await aggregate(backend, 'fixture-redis-down');
      expect(job.stats).toMatchObject({ ...counts, avgProcessingTimeMs: expect.anything() });
      expect(job.stats).toMatchObject({ totalPages: 16, successfulPages: 10, failedPages: 2, skippedPages: 4 });
      expectFixtureResults(await manager.getJobResults('fixture-redis-down'), site);
      // Redis holds only the results written before it went away: the list is short, so reads use Postgres.
      await proxy.restore();
      const direct = createRedisStore(redisUrl, { keyPrefix: prefix });
      try {
        expect((await direct.range(crawlResultsKey('fixture-redis-down').key)).length).toBeLessThan(16);
      } finally {
        await direct.close();
      }
    } finally {
      await site.close();
      await cache.close();
      await proxy.close();
      await deleteKeys(redisUrl, prefix);
    }
  });

  it('never leases one job to two workers at once', async () => {
    const manager = new PersistentJobManager(backend.db, memoryCache());
    await startCrawl(manager, { customerId, jobId: 'fixture-claim', startUrl: 'http://127.0.0.1:9/' }, { egress });
    const claims = await Promise.all(Array.from({ length: 6 }, () => manager.claimJob({ leaseSeconds: 60, jobId: 'fixture-claim' })));
    expect(claims.filter(Boolean)).toHaveLength(1);
    // Cancelled, it is nobody's to claim, and no result can be added any more.
    expect((await manager.cancelJob('fixture-claim')).status).toBe('cancelled');
    expect(await manager.claimJob({ leaseSeconds: 60, jobId: 'fixture-claim' })).toBeNull();
    await expect(manager.addJobResult('fixture-claim', {}, { url: 'http://127.0.0.1:9/', status: 'success' })).rejects.toMatchObject({
      code: '55000',
    });
  });

  it('refuses a crawl past the plan’s monthly limit, with the limit and when it resets', async () => {
    const free = await newCustomer(backend.db, { plan: 'free' });
    const manager = new PersistentJobManager(backend.db, memoryCache());
    for (let i = 0; i < 10; i += 1) await startCrawl(manager, { customerId: free, jobId: `free-${kind}-${i}`, startUrl: 'http://127.0.0.1:9/' }, { egress });
    await expect(startCrawl(manager, { customerId: free, jobId: `free-${kind}-10`, startUrl: 'http://127.0.0.1:9/' }, { egress })).rejects.toMatchObject({
      code: 'OMUSE',
      message: expect.stringMatching(/^monthly crawl limit reached: 10 of 10 used on the free plan; resets \d{4}-\d\d-01T00:00:00Z$/),
    });
    const { jobs, total } = await manager.listJobs({ customerId: free, limit: 50 });
    expect(total).toBe(10);
    // Cancelled, the queued jobs leave the workers of the next tests alone.
    for (const job of jobs) expect((await manager.cancelJob(job.jobId)).status).toBe('cancelled');
  });

  it('backs off when the site answers 429: waits what Retry-After asks, retries, and eases off after successes', async () => {
    const hits: Record<string, number[]> = {};
    const site = await serve((req, res) => {
      const path = req.url ?? '/';
      (hits[path] ??= []).push(Date.now());
      if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Home</title><a href="/busy">busy</a>');
      if (path === '/busy' && hits[path]!.length === 1) return void res.writeHead(429, { 'retry-after': '1' }).end();
      if (path === '/busy') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<title>Busy</title><p>Finally.</p>');
      res.writeHead(404).end();
    });
    try {
      const cache = memoryCache();
      const manager = new PersistentJobManager(backend.db, cache);
      await startCrawl(manager, { customerId, jobId: 'fixture-429', startUrl: `${site.origin}/`, concurrency: 1 }, { egress });
      expect(await runCrawlJobs(manager, cache, { budgetMs: 60_000, egress })).toEqual([{ jobId: 'fixture-429', outcome: 'completed' }]);
      const results = await manager.getJobResults('fixture-429');
      expect(results.map((r) => [pathOf(r.url), r.status, r.httpStatus])).toEqual([
        ['/', 'success', 200],
        ['/busy', 'success', 200],
      ]);
      // Politeness, not speed: the retry came no sooner than the server asked.
      expect(hits['/busy']!.length).toBe(2);
      expect(hits['/busy']![1]! - hits['/busy']![0]!).toBeGreaterThanOrEqual(950);
      // The domain's delay went to 1000 ms and eased by a quarter after the success.
      expect(await cache.get(domainDelayKey(new URL(site.origin).host).key)).toBe('750');
    } finally {
      await site.close();
    }
  });

  it('answers with an OpenAI-compatible endpoint when configured, with the retrieved passages as context', async () => {
    const requests: { authorization?: string; body: { model: string; messages: { role: string; content: string }[] } }[] = [];
    let fail = false;
    const llm = await serve((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        requests.push({ authorization: req.headers.authorization, body: JSON.parse(raw) });
        if (req.url !== '/v1/chat/completions' || fail) return void res.writeHead(fail ? 500 : 404).end('{"error":"no"}');
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'We are open Monday to Saturday, 8am–6pm (see /about).' } }] }),
        );
      });
    });
    try {
      const responder = openAiResponder(backend.db, { apiKey: 'sk-test', baseUrl: `${llm.origin}/v1`, model: 'test-model' });
      const answer = await responder.respond(question(customerId, 'What are your opening hours on Saturday?'));
      expect(answer).toMatchObject({ needsStaff: false, reply: { content: 'We are open Monday to Saturday, 8am–6pm (see /about).', metadata: { source: 'llm' } } });
      expect(requests[0]!.authorization).toBe('Bearer sk-test');
      expect(requests[0]!.body.model).toBe('test-model');
      expect(requests[0]!.body.messages[1]!.content).toContain('open Monday to Saturday from 8am to 6pm');
      // Nothing retrieved: the hand-off, without calling the model.
      expect((await responder.respond(question(customerId, 'Do you repair bicycles?'))).needsStaff).toBe(true);
      expect(requests).toHaveLength(1);
      // The endpoint failing: the search answer.
      fail = true;
      const fallback = await responder.respond(question(customerId, 'What are your opening hours on Saturday?'));
      expect(fallback).toMatchObject({ needsStaff: false, reply: { metadata: { source: 'crawled-content' } } });
      expect(fallback.reply!.content).toContain('open Monday to Saturday from 8am to 6pm');
    } finally {
      await llm.close();
    }
  });

  it('answers a question from the crawled page that has the answer, with its URL; otherwise hands over politely', async () => {
    const responder = crawledContentResponder(backend.db);
    const ask = (text: string) => responder.respond(question(customerId, text));

    const answer = await ask('What are your opening hours on Saturday?');
    expect(answer.needsStaff).toBe(false);
    expect(answer.reply!.content).toContain('open Monday to Saturday from 8am to 6pm');
    expect(FIXTURE_ANSWER).toContain('open Monday to Saturday from 8am to 6pm');
    expect(answer.reply!.content).toMatch(/Source: About Acme Garden: http:\/\/127\.0\.0\.1:\d+\/about$/);

    const none = await ask('Do you repair bicycles?');
    expect(none).toEqual({ reply: { content: NO_ANSWER_REPLY, metadata: { source: 'bot', answered: false } }, needsStaff: true });
  });
});
