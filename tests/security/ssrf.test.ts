/**
 * SSRF through the crawler (issue 14, finding 3): a staff member — an agent included — names the
 * URL the server fetches. Every way of pointing it inward must be refused: internal start URLs at
 * job creation (400, no job), and mid-crawl a robots.txt, sitemap, redirect or same-site link that
 * leads inward (a per-page error; the job still completes). The "internal" server below stands for
 * the metadata service or an admin port: it must never see a request.
 *
 * Host names that look public are resolved by an injected lookup (the crawler's `egress.lookup`),
 * so the tests need no DNS; `localhost` and IP literals go through the real resolver.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as listJobs, POST as createJob } from '@/app/api/admin/crawl-jobs/route';
import { FallbackCache } from '@/lib/cache/fallback';
import { MemoryStore } from '@/lib/cache/memory';
import { startCrawl } from '@/lib/jobs';
import { crawlJob } from '@/lib/jobs/crawler';
import { createGuardedFetch, type EgressPolicy, type LookupFunction } from '@/lib/jobs/egress';
import { PersistentJobManager, type JobResult } from '@/lib/jobs/persistent-job-manager';
import { adminCookie, resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';
import { newCustomer } from '../support/fixtures';

const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');

interface Server {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 recording each request's host and path. */
async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Server> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.headers.host}${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const html = (res: http.ServerResponse, body: string) => res.writeHead(200, { 'content-type': 'text/html' }).end(body);
const redirect = (res: http.ServerResponse, location: string, status = 302) => res.writeHead(status, { location }).end();

/** A resolver answering from a table, counting its calls. */
function fakeLookup(table: Record<string, string | string[]>): LookupFunction & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    const answer = table[hostname];
    if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return (Array.isArray(answer) ? answer : [answer]).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

describe('SSRF through the crawler', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let customerId: string;
  /** Stands for 169.254.169.254 or an internal admin port: it must never see a request. */
  let internal: Server;
  let site: Server;
  let siteRoutes: Record<string, (res: http.ServerResponse) => void> = {};
  let manager: PersistentJobManager;
  const cache = new FallbackCache(undefined, new MemoryStore());

  beforeAll(async () => {
    pg = await migratedPostgres();
    customerId = await newCustomer(pg.db, { plan: 'enterprise' });
    manager = new PersistentJobManager(pg.db, cache);
    internal = await serve((_req, res) => html(res, '<title>Internal</title><p>instance credentials</p>'));
    site = await serve((req, res) => {
      const route = siteRoutes[new URL(req.url ?? '/', 'http://x').pathname];
      if (route) route(res);
      else res.writeHead(404).end();
    });
    // As a production server starts: no private host allowed.
    await useAppEnv({ DATABASE_URL: pg.database.url, DB_FALLBACK: 'off', NODE_ENV: 'production', OMNIOPS_ADMIN_TOKEN: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await resetApp();
    await internal?.close();
    await site?.close();
    await pg?.dispose();
  });

  const post = (body: unknown) =>
    createJob(
      new Request('http://localhost/api/admin/crawl-jobs', {
        method: 'POST',
        // From the dashboard's own origin: the CSRF check (lib/http.ts) comes first.
        headers: { 'content-type': 'application/json', cookie: adminCookie(ADMIN_TOKEN), origin: 'http://localhost' },
        body: JSON.stringify(body),
      }),
    );

  /** A job created without the creation check (as if the host's DNS changed after it), crawled with `egress`. */
  async function crawl(jobId: string, startUrl: string, egress: Partial<EgressPolicy>, jobType: 'full_crawl' | 'sitemap' = 'full_crawl') {
    const { job } = await manager.createJob(jobId, { customerId, domain: new URL(startUrl).host, jobType, config: { startUrl, requestTimeoutMs: 2000 } });
    const claimed = await manager.claimJob({ leaseSeconds: 60, jobId: job.jobId });
    const outcome = await crawlJob(claimed!, { manager, cache, egress });
    const results = await manager.getJobResults(jobId);
    return { outcome, results, byPath: new Map(results.map((r: JobResult) => [new URL(r.url).pathname, r])) };
  }

  it('refuses internal start URLs at job creation with a 400 and creates no job', async () => {
    const refused = [
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://127.0.0.1/',
      'http://127.1/',
      'http://localhost:3000/',
      'http://10.0.0.5/',
      'http://172.16.3.4/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'http://255.255.255.255/',
      'http://224.0.0.1/',
      'http://[::1]/',
      'http://[::]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[::7f00:1]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[fd00:ec2::254]/',
      'http://[fe80::1]/',
      'http://[ff02::1]/',
      // 127.0.0.1 in decimal, octal and hex: the URL parser turns them into 127.0.0.1.
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://0x7f.0.0.1/',
      // A public-looking host on a port other than 80/443.
      'http://93.184.215.14:8080/',
    ];
    for (const startUrl of refused) {
      const response = await post({ customerId, startUrl });
      expect({ startUrl, status: response.status }).toEqual({ startUrl, status: 400 });
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('invalid_request');
      expect(body.error.message).toMatch(/^startUrl: /);
    }
    const listed = await listJobs(new Request(`http://localhost/api/admin/crawl-jobs?customerId=${customerId}`, { headers: { cookie: adminCookie(ADMIN_TOKEN) } }));
    expect(((await listed.json()) as { total: number }).total).toBe(0);
    expect(internal.hits).toEqual([]);
  });

  it('answers 400, not 500, for a start URL whose host is over 253 characters', async () => {
    const host = `${'a'.repeat(60)}.`.repeat(5) + 'example';
    expect(host.length).toBeGreaterThan(253);
    const response = await post({ customerId, startUrl: `https://${host}/` });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/^startUrl: /);
  });

  it('refuses a public-looking host name that resolves to an internal address', async () => {
    const lookup = fakeLookup({ 'shop.example': '127.0.0.1', 'meta.example': ['93.184.215.14', '169.254.169.254'] });
    for (const host of ['shop.example', 'meta.example']) {
      await expect(startCrawl(manager, { customerId, startUrl: `http://${host}/` }, { egress: { lookup } })).rejects.toMatchObject({
        status: 400,
        message: expect.stringMatching(/^startUrl: .*(loopback|linkLocal)/),
      });
    }
    expect(lookup.calls).toEqual(['shop.example', 'meta.example']);
  });

  it('does not follow a robots.txt that redirects inward; the crawl goes on', async () => {
    siteRoutes = {
      '/robots.txt': (res) => redirect(res, `http://127.0.0.1:${internal.port}/latest/meta-data/`, 301),
      '/': (res) => html(res, '<title>Shop</title><p>Welcome to the shop.</p>'),
    };
    const { outcome, byPath } = await crawl('ssrf-robots', `http://localhost:${site.port}/`, { allowPrivateHosts: ['localhost'] });
    expect(outcome).toBe('completed');
    expect(byPath.get('/')).toMatchObject({ status: 'success' });
    expect(internal.hits).toEqual([]);
  });

  it('does not follow a sitemap that redirects inward', async () => {
    siteRoutes = {
      '/robots.txt': (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`User-agent: *\nAllow: /\nSitemap: http://localhost:${site.port}/map.xml\n`),
      '/map.xml': (res) => redirect(res, `http://127.0.0.1:${internal.port}/sitemap.xml`),
      '/sitemap.xml': (res) => redirect(res, `http://[::ffff:127.0.0.1]:${internal.port}/sitemap.xml`),
      '/': (res) => html(res, '<title>Shop</title><p>Welcome to the shop.</p>'),
    };
    const { outcome, byPath } = await crawl('ssrf-sitemap', `http://localhost:${site.port}/`, { allowPrivateHosts: ['localhost'] }, 'sitemap');
    expect(outcome).toBe('completed');
    expect(byPath.get('/')).toMatchObject({ status: 'success' });
    expect(internal.hits).toEqual([]);
  });

  it('records a same-site link or redirect that resolves inward as a refused page, never fetching it', async () => {
    // shop.example is the customer's site (allowed for the test); www.shop.example is the same site
    // by the crawler's rules, but its DNS points at an internal address. The fixture's port is
    // allowed, so the address is what refuses it.
    const lookup = fakeLookup({ 'shop.example': '127.0.0.1', 'www.shop.example': '127.0.0.1' });
    siteRoutes = {
      '/robots.txt': (res) => res.writeHead(404).end(),
      '/': (res) =>
        html(res, `<title>Shop</title><a href="http://www.shop.example:${site.port}/secret">secret</a> <a href="/go">go</a>`),
      '/go': (res) => redirect(res, `http://www.shop.example:${site.port}/admin`),
      '/secret': (res) => html(res, '<title>Secret</title>'),
      '/admin': (res) => html(res, '<title>Admin</title>'),
    };
    const { outcome, results } = await crawl('ssrf-links', `http://shop.example:${site.port}/`, {
      allowPrivateHosts: ['shop.example'],
      allowedPorts: [80, 443, site.port],
      lookup,
    });
    expect(outcome).toBe('completed');
    const refused = results.filter((r) => r.url.startsWith('http://www.shop.example'));
    expect(refused.map((r) => [new URL(r.url).pathname, r.status]).sort()).toEqual([
      ['/admin', 'failed'],
      ['/secret', 'failed'],
    ]);
    for (const result of refused) expect(result.error).toMatch(/^refused: www\.shop\.example resolves to 127\.0\.0\.1 \(loopback\)/);
    expect(site.hits.filter((hit) => hit.startsWith('www.'))).toEqual([]);
  });

  it('connects to the address it checked: an answer that changes between check and connect never reaches inside', async () => {
    // DNS rebinding: the first answer is public, every later one internal. A fetch that checked one
    // answer and connected after a second lookup would reach the internal server.
    let calls = 0;
    const lookup: LookupFunction = async () => {
      calls += 1;
      return [calls === 1 ? { address: '2606:4700:4700::1111', family: 6 } : { address: '127.0.0.1', family: 4 }];
    };
    const guarded = createGuardedFetch({ allowPrivateHosts: [], allowedPorts: [80, 443, internal.port], lookup });
    const first = await guarded(`http://rebind.example:${internal.port}/`, { signal: AbortSignal.timeout(1500) }).then(
      (response) => response.status,
      (error: Error) => error.message,
    );
    expect(first).not.toBe(200);
    expect(calls).toBe(1);
    await expect(guarded(`http://rebind.example:${internal.port}/`)).rejects.toThrow(/^refused: rebind\.example resolves to 127\.0\.0\.1/);
    expect(calls).toBe(2);
    expect(internal.hits).toEqual([]);
  });

  it('stops reading a body past the cap and a response past the time limit', async () => {
    siteRoutes = {
      '/huge': (res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (res.write(chunk)) {
            if (res.destroyed) return;
          }
          res.once('drain', pump);
        };
        pump();
      },
      '/trickle': (res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        const timer = setInterval(() => res.write('<p>.</p>'), 50);
        res.on('close', () => clearInterval(timer));
      },
    };
    const guarded = createGuardedFetch({ allowPrivateHosts: ['localhost'], allowedPorts: [80, 443] });
    const huge = await guarded(`http://localhost:${site.port}/huge`, { maxBytes: 1024 * 1024 });
    await expect(huge.arrayBuffer()).rejects.toThrow(/larger than 1048576 bytes/);
    const started = Date.now();
    const trickle = await guarded(`http://localhost:${site.port}/trickle`, { signal: AbortSignal.timeout(300) });
    await expect(trickle.text()).rejects.toThrow();
    // Not a speed assertion: the body would never end without the time limit.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
