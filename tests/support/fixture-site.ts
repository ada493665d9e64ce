/**
 * A small website served on 127.0.0.1 for the crawler's tests, counting every request by path:
 * nested links, an external link, a redirect, a 404, a 500, a slow page, a robots.txt disallow, a
 * sitemap with a page no link leads to, two pages with identical content and a non-HTML file.
 *
 * `expectedResults` is what a crawl from `/` with maxDepth 2 must record.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobResult, JobStats } from '@/lib/jobs/persistent-job-manager';

export interface FixtureSite {
  origin: string;
  /** Requests received, by path. */
  requests: Map<string, number>;
  close(): Promise<void>;
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>` +
  `<style>body { font-family: sans-serif }</style><script>window.analytics = "ignored";</script></head>` +
  `<body><nav><a href="/">Home</a> <a href="/about">About</a></nav><main>${body}</main><footer>© Acme Garden</footer></body></html>`;

const COPY = page('Seasonal offers', '<h1>Seasonal offers</h1><p>Ten percent off all bulbs this autumn.</p>');

export const FIXTURE_ANSWER = 'Our garden centre is open Monday to Saturday from 8am to 6pm, and closed on Sundays.';

const routes: Record<string, (res: http.ServerResponse) => void | Promise<void>> = {
  '/': (res) =>
    html(
      res,
      page(
        'Acme Garden Supplies',
        `<h1>Acme Garden Supplies</h1><p>Everything for your garden.</p>
         <a href="/about">About us</a> <a href="/products">Products</a> <a href="/contact#form">Contact</a>
         <a href="/old-page">Our old page</a> <a href="/missing">Missing</a> <a href="/broken">Broken</a>
         <a href="/slow">Slow</a> <a href="/private/secret">Private</a> <a href="/copy-a">Offers</a>
         <a href="/copy-b">Offers again</a> <a href="/files/catalog.pdf">Catalogue (PDF)</a>
         <a href="https://external.example/partner">Partner</a> <a href="mailto:hello@acme.test">Mail</a>`,
      ),
    ),
  '/about': (res) =>
    html(res, page('About Acme Garden', `<h1>About us</h1><h2>Opening hours</h2><p>${FIXTURE_ANSWER}</p><p>Family run since 1982.</p>`)),
  '/products': (res) =>
    html(res, page('Products', '<h1>Products</h1><a href="/products/seeds">Seeds</a> <a href="/products/tools">Tools</a>')),
  '/products/seeds': (res) =>
    html(res, page('Seeds', '<h1>Seeds</h1><p>Heirloom vegetable seeds.</p><a href="/products/seeds/tomato">Tomato seeds</a>')),
  '/products/seeds/tomato': (res) => html(res, page('Tomato seeds', '<h1>Tomato</h1><p>Beyond the depth limit.</p>')),
  '/products/tools': (res) => html(res, page('Tools', '<h1>Tools</h1><p>Spades, rakes and pruning shears for every gardener.</p>')),
  '/contact': (res) => html(res, page('Contact', '<h1>Contact</h1><p>Write to hello@acme.test or call 555-0100.</p>')),
  '/old-page': (res) => {
    res.writeHead(301, { location: '/moved' }).end();
  },
  '/moved': (res) => html(res, page('Moved here', '<h1>New home</h1><p>This page replaced the old one.</p>')),
  '/missing': (res) => {
    res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
  },
  '/broken': (res) => {
    res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>Internal error</h1>');
  },
  '/slow': async (res) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    html(res, page('Slow page', '<h1>Patience</h1><p>Composting takes time, and so does this page.</p>'));
  },
  '/private/secret': (res) => html(res, page('Secret', '<p>Robots must not read this.</p>')),
  '/copy-a': (res) => html(res, COPY),
  '/copy-b': (res) => html(res, COPY),
  '/files/catalog.pdf': (res) => {
    const body = Buffer.from('%PDF-1.4 fixture catalogue');
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': body.length }).end(body);
  },
  '/from-sitemap': (res) => html(res, page('Gift cards', '<h1>Gift cards</h1><p>Only the sitemap links here.</p>')),
};

function html(res: http.ServerResponse, body: string) {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
}

export type ExpectedResult = { path: string; status: 'success' | 'failed' | 'skipped'; httpStatus: number | null };

/** A crawl from `/` with maxDepth 2 (the copy pair: exactly one of them succeeds). */
export const expectedResults: ExpectedResult[] = [
  { path: '/', status: 'success', httpStatus: 200 },
  { path: '/from-sitemap', status: 'success', httpStatus: 200 },
  { path: '/about', status: 'success', httpStatus: 200 },
  { path: '/products', status: 'success', httpStatus: 200 },
  { path: '/contact', status: 'success', httpStatus: 200 },
  { path: '/old-page', status: 'skipped', httpStatus: 301 },
  { path: '/moved', status: 'success', httpStatus: 200 },
  { path: '/missing', status: 'failed', httpStatus: 404 },
  { path: '/broken', status: 'failed', httpStatus: 500 },
  { path: '/slow', status: 'success', httpStatus: 200 },
  { path: '/private/secret', status: 'skipped', httpStatus: null },
  { path: '/files/catalog.pdf', status: 'skipped', httpStatus: 200 },
  { path: '/products/seeds', status: 'success', httpStatus: 200 },
  { path: '/products/tools', status: 'success', httpStatus: 200 },
];
export const COPY_PATHS = ['/copy-a', '/copy-b'];

/** What a job's counters must be, added up from its results (the stats trigger must agree). */
export function statsOfResults(results: JobResult[]): Pick<JobStats, 'totalPages' | 'successfulPages' | 'failedPages' | 'skippedPages' | 'totalBytes'> {
  const count = (status: JobResult['status']) => results.filter((r) => r.status === status).length;
  return {
    totalPages: results.length,
    successfulPages: count('success'),
    failedPages: count('failed'),
    skippedPages: count('skipped'),
    totalBytes: results.reduce((sum, r) => sum + (r.bytes ?? 0), 0),
  };
}

export async function startFixtureSite(): Promise<FixtureSite> {
  const requests = new Map<string, number>();
  let origin = '';
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://fixture').pathname;
    requests.set(path, (requests.get(path) ?? 0) + 1);
    if (path === '/robots.txt') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`User-agent: *\nDisallow: /private/\n\nSitemap: ${origin}/sitemap.xml\n`);
      return;
    }
    if (path === '/sitemap.xml') {
      res
        .writeHead(200, { 'content-type': 'application/xml' })
        .end(
          `<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` +
            `<url><loc>${origin}/</loc></url><url><loc>${origin}/from-sitemap</loc></url></urlset>`,
        );
      return;
    }
    const route = routes[path];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    void route(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
