/**
 * The staff dashboard in real Chromium, against the built app on the embedded default and on a
 * real PostgreSQL database (tests/e2e/postgres-app.ts): the session guard, sign-in, a customer
 * created in the dashboard whose snippet is pasted into a host page where a visitor writes and
 * receives the staff reply, a crawl of the fixture site whose page shows the database's stats, a
 * dead-lettered message retried from the Queue page, and every page at 1280 and 390 px without
 * console errors (screenshots attached to the report).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import postgres from 'postgres';
import { expect, test, type Page, type TestInfo } from '@playwright/test';
import { PostgresDb } from '@/lib/db/postgres';
import type { CrawlJob } from '@/lib/jobs/persistent-job-manager';
import { enqueueMessages, failMessages, MAX_RETRIES } from '@/lib/queue';
import { startFixtureSite, type FixtureSite } from '../support/fixture-site';
import { E2E_DATA_DIR, E2E_PG_APP_PORT, E2E_PG_DATA_DIR, E2E_PORT, E2E_SB_ADMIN_TOKEN, E2E_SB_APP_PORT, E2E_SB_DATA_DIR } from './server';

const targets = [
  { name: 'embedded', base: `http://127.0.0.1:${E2E_PORT}`, dataDir: E2E_DATA_DIR },
  { name: 'postgres', base: `http://127.0.0.1:${E2E_PG_APP_PORT}`, dataDir: E2E_PG_DATA_DIR },
] as const;

const GUARDED_PAGES = ['/dashboard', '/dashboard/conversations', '/dashboard/queue', '/dashboard/crawls', '/dashboard/customers'];
const id = '00000000-0000-4000-8000-000000000001';
const GUARDED_APIS: [string, string][] = [
  ['GET', '/api/admin/customers'],
  ['POST', '/api/admin/customers'],
  ['PATCH', `/api/admin/customers/${id}`],
  ['POST', `/api/admin/customers/${id}/rotate-key`],
  ['POST', `/api/admin/customers/${id}/export`],
  ['POST', `/api/admin/conversations/${id}/replies`],
  ['POST', '/api/admin/queue/retry'],
  ['POST', '/api/admin/queue/purge'],
  ['GET', '/api/admin/crawl-jobs'],
  ['POST', '/api/admin/crawl-jobs'],
  ['GET', '/api/admin/crawl-jobs/some-job'],
  ['GET', '/api/admin/crawl-jobs/some-job/results'],
  ['POST', '/api/admin/crawl-jobs/some-job/cancel'],
];

const adminToken = (dataDir: string) => fs.readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();

/** Sign in through the form at /login (counts against the per-address sign-in limit). */
async function signInWithForm(page: Page, dataDir: string) {
  await page.goto('/login?next=/dashboard');
  await page.getByLabel('Admin token').fill(adminToken(dataDir));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
}

/**
 * Sign the page's browser context in through the JSON login (the cookie lands in the context),
 * as a client address of its own: sign-in is limited to 10 a minute per address, and the other
 * specs sign in from 127.0.0.1 too.
 */
async function signIn(page: Page, token: string) {
  const response = await page.request.post('/api/auth/login', {
    headers: { 'x-forwarded-for': '198.51.100.200' },
    data: { token },
  });
  expect(response.status()).toBe(200);
  await page.goto('/dashboard');
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
}

/** Console errors and uncaught exceptions of a page, collected from now on. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** A full-page screenshot kept with the test's artifacts (test-results/) and attached to its report. */
async function screenshot(page: Page, testInfo: TestInfo, name: string) {
  const file = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

for (const target of targets) {
  test.describe(`dashboard on ${target.name}`, () => {
    test.describe.configure({ mode: 'serial' });
    test.use({ baseURL: target.base });

    const customerName = `Garden Shop ${target.name} ${Date.now()}`;
    let host: http.Server;
    let hostOrigin = '';
    let hostHtml = '<!doctype html><title>Host</title><p>No snippet yet.</p>';
    let site: FixtureSite;

    test.beforeAll(async () => {
      host = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(hostHtml));
      await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
      hostOrigin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
      site = await startFixtureSite();
    });
    test.afterAll(async () => {
      host?.closeAllConnections();
      await new Promise((resolve) => host?.close(resolve));
      await site?.close();
    });

    test('without a session every page redirects to sign-in and every admin API answers 401; a wrong token is refused', async ({ page, request }) => {
      for (const route of GUARDED_PAGES) {
        const response = await request.get(route, { maxRedirects: 0 });
        expect(response.status(), route).toBe(303);
        expect(response.headers().location, route).toContain(`/login?next=${encodeURIComponent(route)}`);
      }
      for (const [method, route] of GUARDED_APIS) {
        const response = await request.fetch(route, { method, data: method === 'GET' ? undefined : {}, maxRedirects: 0 });
        expect(response.status(), `${method} ${route}`).toBe(401);
      }
      // Browsers ask for /favicon.ico whatever the page declares: no 404 in their console.
      const icon = await request.get('/favicon.ico');
      expect(icon.status()).toBe(200);
      expect(icon.headers()['content-type']).toContain('image/svg+xml');
      await page.goto('/dashboard/queue');
      await expect(page).toHaveURL(/\/login\?next=%2Fdashboard%2Fqueue$/);
      await page.getByLabel('Admin token').fill('definitely-not-the-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toHaveText('That admin token is not valid.');
      await signInWithForm(page, target.dataDir);
    });

    test('a customer created in the dashboard gets a snippet; a visitor on the host page writes, staff reply, the visitor sees it', async ({ page, context }) => {
      const errors = consoleErrors(page);
      await signIn(page, adminToken(target.dataDir));
      await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Customers' }).click();
      const form = page.getByRole('form', { name: 'New customer' });
      await form.getByLabel('Name').fill(customerName);
      await form.getByLabel('Allowed origins (one per line)').fill(hostOrigin);
      await form.getByLabel('Plan').selectOption('pro');
      await form.getByRole('button', { name: 'Create customer' }).click();
      await expect(form.getByRole('status')).toHaveText('Customer created.');
      await page.getByRole('link', { name: customerName }).click();
      const snippet = (await page.getByLabel('Embed snippet').textContent())!;
      expect(snippet).toMatch(/^<script src="http:\/\/127\.0\.0\.1:\d+\/embed\.js" data-customer="pk_[0-9a-f]{32}" async><\/script>$/);
      hostHtml = `<!doctype html><title>Garden shop</title><h1>Welcome to the shop</h1>${snippet}`;

      const visitor = await context.newPage();
      await visitor.goto(hostOrigin);
      await visitor.getByRole('button', { name: 'Chat' }).click();
      const widget = visitor.frameLocator(`iframe[title="Chat with ${customerName}"]`);
      const question = `Is the ${target.name} shop open on Sundays?`;
      await widget.getByLabel('Message').fill(question);
      await widget.getByRole('button', { name: 'Send' }).click();
      await expect(widget.locator('[data-state="sent"]')).toHaveText([`${question}sent`]);

      await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Conversations' }).click();
      await page.getByLabel('Search messages').fill(question);
      await page.getByRole('button', { name: 'Search' }).click();
      const row = page.getByRole('row').filter({ hasText: customerName });
      await expect(row).toHaveCount(1);
      await row.getByRole('link').click();
      await expect(page.getByRole('list', { name: 'Messages' })).toContainText(question);
      await page.getByLabel('Reply to the visitor').fill('Yes, from 10am to 4pm on Sundays.');
      await page.getByRole('button', { name: 'Send reply' }).click();
      await expect(page.getByRole('status').filter({ hasText: 'Reply sent.' })).toBeVisible();
      await expect(page.getByRole('list', { name: 'Messages' })).toContainText('Yes, from 10am to 4pm on Sundays.');

      // The widget polls every 2.5 s.
      await expect(widget.getByText('Yes, from 10am to 4pm on Sundays.')).toBeVisible({ timeout: 15_000 });
      expect(errors).toEqual([]);
    });

    test('a crawl started from the dashboard shows stats equal to the database’s', async ({ page }) => {
      const errors = consoleErrors(page);
      await signIn(page, adminToken(target.dataDir));
      await page.goto('/dashboard/crawls');
      const form = page.getByRole('form', { name: 'Start a crawl' });
      await form.getByLabel('Customer').selectOption({ label: customerName });
      await form.getByLabel('Start URL').fill(`${site.origin}/`);
      await form.getByLabel('Max depth').fill('2');
      await form.getByRole('button', { name: 'Start crawl' }).click();
      await expect(form.getByRole('status')).toHaveText('Crawl started.');
      await page.getByRole('link', { name: `${site.origin}/` }).first().click();
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Crawl of ${site.origin}/`);
      await expect(async () => {
        await page.reload();
        await expect(page.getByText(/completed/).first()).toBeVisible({ timeout: 1000 });
      }).toPass({ timeout: 60_000 });

      const jobId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
      const shown = async (label: string) => Number(await page.locator(`[data-stat="${label}"]`).textContent());
      const job = (await (await page.request.get(`/api/admin/crawl-jobs/${encodeURIComponent(jobId)}`)).json()) as CrawlJob;
      let stats = job.stats;
      if (target.name === 'postgres') {
        // Straight from the database, not through the app.
        const sql = postgres(fs.readFileSync(path.join(target.dataDir, 'database-url'), 'utf8'), { max: 1 });
        try {
          const [row] = await sql<{ total: number; success: number; failed: number; skipped: number; bytes: string }[]>`
            select total_pages as total, successful_pages as success, failed_pages as failed, skipped_pages as skipped, total_bytes as bytes
              from scrape_job_stats where job_id = ${jobId}`;
          const [counted] = await sql<{ n: number }[]>`select count(*)::int as n from scrape_job_results where job_id = ${jobId}`;
          expect(row!.total).toBe(counted!.n);
          stats = { ...stats, totalPages: row!.total, successfulPages: row!.success, failedPages: row!.failed, skippedPages: row!.skipped, totalBytes: Number(row!.bytes) };
        } finally {
          await sql.end();
        }
      }
      expect(await shown('Pages')).toBe(stats.totalPages);
      expect(await shown('Successful')).toBe(stats.successfulPages);
      expect(await shown('Failed')).toBe(stats.failedPages);
      expect(await shown('Skipped')).toBe(stats.skippedPages);
      expect(await shown('Bytes')).toBe(stats.totalBytes);
      expect(stats).toMatchObject({ totalPages: 16, successfulPages: 10, failedPages: 2, skippedPages: 4 });

      await page.getByRole('navigation', { name: 'Filter results by status' }).getByRole('link', { name: 'failed' }).click();
      await expect(page.getByRole('table', { name: 'Crawl results' }).getByRole('row')).toHaveCount(3); // header + 2
      await expect(page.getByRole('img', { name: /^Pages recorded over the crawl.*: 16 pages in all/ })).toBeVisible();
      expect(errors).toEqual([]);
    });

    // Only on PostgreSQL: the test dead-letters the message through the database, which the
    // embedded server holds exclusively.
    if (target.name === 'postgres') {
      test('a dead-lettered message is retried from the Queue page and ends completed', async ({ page }) => {
        const db = new PostgresDb(fs.readFileSync(path.join(target.dataDir, 'database-url'), 'utf8'), { max: 1 });
        const text = `Where is my order ${Date.now()}?`;
        let messageId: string;
        try {
          const [customer] = await db.admin.query<{ id: string }>('select id from customers where name = $1', [customerName]);
          const { messages } = await enqueueMessages(db, {
            customerId: customer!.id,
            sessionId: `dead-letter-${Date.now()}`,
            messages: [{ clientMessageId: 'dl-1', data: { text } }],
          });
          messageId = messages[0]!.id;
          // The responder failed on every attempt: the queue's failure path dead-letters it.
          for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
            await failMessages(db, [{ id: messageId, error: 'responder failed: upstream timed out' }], { baseDelaySeconds: 0 });
          }
          const [row] = await db.admin.query<{ status: string }>('select status from message_queue where id = $1', [messageId]);
          expect(row!.status).toBe('failed');

          const errors = consoleErrors(page);
          await signIn(page, adminToken(target.dataDir));
          await page.goto('/dashboard/queue?status=failed');
          const failed = page.getByRole('row').filter({ hasText: text });
          await expect(failed).toContainText('responder failed: upstream timed out');
          await failed.getByRole('button', { name: 'Retry' }).click();
          await expect
            .poll(async () => (await db.admin.query<{ status: string }>('select status from message_queue where id = $1', [messageId]))[0]!.status)
            .toBe('completed');
          await page.goto('/dashboard/queue?status=completed');
          await expect(page.getByRole('row').filter({ hasText: text })).toContainText('completed');
          expect(errors).toEqual([]);
        } finally {
          await db.close();
        }
      });
    }

    test('every page works at 1280 and 390 px without console errors', async ({ page }, testInfo) => {
      const errors = consoleErrors(page);
      await signIn(page, adminToken(target.dataDir));
      await page.goto('/dashboard/crawls');
      const jobHref = await page.getByRole('link', { name: `${site.origin}/` }).first().getAttribute('href');
      await page.goto('/dashboard/customers');
      const customerHref = await page.getByRole('link', { name: customerName }).getAttribute('href');
      await page.goto(`/dashboard/conversations?q=${encodeURIComponent(target.name)}`);
      const conversationHref = await page.getByRole('row').filter({ hasText: customerName }).getByRole('link').first().getAttribute('href');
      const pages: [string, string][] = [
        ['overview', '/dashboard'],
        ['conversations', '/dashboard/conversations'],
        ['conversation', conversationHref!],
        ['queue', '/dashboard/queue'],
        ['crawls', '/dashboard/crawls'],
        ['crawl-job', jobHref!],
        ['customers', '/dashboard/customers'],
        ['customer', customerHref!],
      ];
      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 900 });
        for (const [name, url] of pages) {
          await page.goto(url);
          await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
          // Nothing wider than the screen: wide tables scroll inside their own box.
          expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${width}px`).toBeLessThanOrEqual(width);
          await screenshot(page, testInfo, `${target.name}-${name}-${width}`);
        }
      }
      expect(errors).toEqual([]);
    });
  });
}

test.describe('dashboard with Supabase Auth (staff accounts)', () => {
  test.describe.configure({ mode: 'serial' });
  const base = `http://127.0.0.1:${E2E_SB_APP_PORT}`;
  test.use({ baseURL: base });
  // Direct API calls carry the app's origin, as the dashboard's own fetches do (Playwright's
  // request context sends none; the admin APIs refuse a mutation without it: lib/http.ts).
  const sameOrigin = { origin: base };
  const email = 'agent@alpha.example';
  const password = 'correct horse battery staple';
  const customers: Record<'alpha' | 'beta', string> = { alpha: '', beta: '' };

  /**
   * The project's Data API or Auth admin API with the secret key (what a setup script would use): a
   * `sb_secret_…` key goes in `apikey` alone, and the gateway gives the request the service role.
   */
  async function service(pathname: string, body: object): Promise<unknown> {
    const project = JSON.parse(fs.readFileSync(path.join(E2E_SB_DATA_DIR, 'supabase.json'), 'utf8')) as { url: string; secretKey: string };
    const response = await fetch(`${project.url}${pathname}`, {
      method: 'POST',
      headers: { apikey: project.secretKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.ok, `${pathname}: ${response.status}`).toBe(true);
    return response.json();
  }

  test.beforeAll(async ({ request }) => {
    const user = (await service('/auth/v1/admin/users', { email, password, email_confirm: true })) as { id: string };
    for (const name of ['alpha', 'beta'] as const) {
      const created = (await service('/rest/v1/rpc/customers_create', { name: `${name} shop`, allowedOrigins: [`https://${name}.example`] })) as { customer: { id: string; publicKey: string } };
      customers[name] = created.customer.id;
      const sent = await request.post('/api/widget/messages', {
        headers: { origin: `https://${name}.example` },
        data: { key: created.customer.publicKey, sessionId: `${name}-visitor`, messages: [{ clientMessageId: 'm1', text: `Question from a ${name} visitor` }] },
      });
      expect(sent.ok(), await sent.text()).toBe(true);
    }
    expect(user.id).toBeTruthy();
  });

  test('an administrator makes a Supabase Auth account staff of a customer on its page', async ({ page }, testInfo) => {
    const errors = consoleErrors(page);
    await signIn(page, E2E_SB_ADMIN_TOKEN);
    await page.goto(`/dashboard/customers/${customers.alpha}`);
    const staff = page.getByRole('region', { name: 'Staff members' });
    await expect(staff.getByText('No staff members yet.')).toBeVisible();
    // An address without an account is invited and added, answered exactly like an existing
    // account (tests/security/member-enumeration.test.ts); removed again here.
    await staff.getByLabel('Staff e-mail').fill('invited@alpha.example');
    await staff.getByRole('button', { name: 'Add staff member' }).click();
    await expect(staff.getByRole('status').filter({ hasText: 'Staff member added.' })).toBeVisible();
    const invitedRow = staff.getByRole('table', { name: 'Staff members' }).getByRole('row').filter({ hasText: 'invited@alpha.example' });
    await invitedRow.getByRole('button', { name: 'Remove' }).click();
    await expect(invitedRow).toHaveCount(0);
    // As an admin of the customer: they may change its settings and staff too (agents only operate it).
    await staff.getByLabel('Staff e-mail').fill(email.toUpperCase());
    await staff.getByLabel('Role').selectOption('admin');
    await staff.getByRole('button', { name: 'Add staff member' }).click();
    await expect(staff.getByRole('status').filter({ hasText: 'Staff member added.' })).toBeVisible();
    await expect(staff.getByRole('table', { name: 'Staff members' }).getByRole('row').filter({ hasText: email })).toContainText('admin');
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `customer page at ${width}px`).toBeLessThanOrEqual(width);
      await screenshot(page, testInfo, `supabase-admin-staff-members-${width}`);
    }
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    expect(errors).toEqual([]);
  });

  test('staff sign in with email and password, see only their customer on every page, are refused the administrators’ APIs, stay signed in across a refresh, sign out', async ({ page, context }, testInfo) => {
    const errors = consoleErrors(page);
    const authCookie = async () => (await context.cookies()).filter((c) => c.name.startsWith('sb-')).map((c) => c.value).join('');

    await page.goto('/dashboard/conversations');
    await expect(page).toHaveURL(/\/login\?next=%2Fdashboard%2Fconversations$/);
    // Admin sign-in is on here too (OMNIOPS_ADMIN_TOKEN is set): the page offers both.
    await expect(page.getByLabel('Admin token')).toBeVisible();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('alert').filter({ hasText: /\S/ })).toHaveText('Wrong email or password.');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Conversations' })).toBeVisible();
    await expect(page.getByText(`Signed in as ${email}`)).toBeVisible();

    // Only their customer's conversations, and a reply reaches the thread.
    await page.getByLabel('Search messages').fill('Question from a');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.getByRole('row').filter({ hasText: 'alpha shop' })).toHaveCount(1);
    await expect(page.getByRole('row').filter({ hasText: 'beta shop' })).toHaveCount(0);
    await page.getByRole('row').filter({ hasText: 'alpha shop' }).getByRole('link').click();
    await expect(page.getByRole('list', { name: 'Messages' })).toContainText('Question from a alpha visitor');
    await page.getByLabel('Reply to the visitor').fill('Staff account here.');
    await page.getByRole('button', { name: 'Send reply' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Reply sent.' })).toBeVisible();

    const nav = page.getByRole('navigation', { name: 'Dashboard' });
    await expect(nav.getByRole('link')).toHaveText(['Overview', 'Conversations', 'Queue', 'Crawl jobs', 'Customers']);
    await nav.getByRole('link', { name: 'Customers' }).click();
    await expect(page.getByRole('link', { name: 'alpha shop' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'beta shop' })).toHaveCount(0);
    await expect(page.getByRole('form', { name: 'New customer' })).toHaveCount(0);

    // Another customer's pages and the administrators' pages and APIs are refused.
    // (Streamed under the dashboard's loading state, a not-found page keeps status 200: look at it.)
    await page.goto(`/dashboard/customers/${customers.beta}`);
    await expect(page.getByText('This page could not be found.')).toBeVisible();
    await expect(page.getByText('beta shop')).toHaveCount(0);
    // Queue and Crawl jobs: their customer's only (read under RLS with their own JWT).
    await page.goto('/dashboard');
    await nav.getByRole('link', { name: 'Queue' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Queue' })).toBeVisible();
    await expect(page.getByRole('cell', { name: 'Question from a alpha visitor' })).toBeVisible();
    await expect(page.getByText('Question from a beta visitor')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Purge expired' })).toHaveCount(0);
    await nav.getByRole('link', { name: 'Crawl jobs' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Crawl jobs' })).toBeVisible();
    await expect(page.getByLabel('Customer').getByRole('option')).toHaveText(['alpha shop']);
    expect((await page.request.get('/api/admin/customers')).status()).toBe(403);
    expect((await page.request.post('/api/admin/queue/purge', { data: {}, headers: sameOrigin })).status()).toBe(403);
    expect((await page.request.post('/api/admin/queue/retry', { data: { ids: [crypto.randomUUID()], customerId: customers.beta }, headers: sameOrigin })).status()).toBe(403);
    expect((await page.request.get(`/api/admin/crawl-jobs?customerId=${customers.beta}`)).status()).toBe(403);
    expect((await page.request.get(`/api/admin/crawl-jobs?customerId=${customers.alpha}`)).status()).toBe(200);
    expect((await page.request.patch(`/api/admin/customers/${customers.beta}`, { data: { name: 'taken' }, headers: sameOrigin })).status()).toBe(403);
    expect((await page.request.patch(`/api/admin/customers/${customers.alpha}`, { data: { plan: 'enterprise' }, headers: sameOrigin })).status()).toBe(403);
    expect((await page.request.patch(`/api/admin/customers/${customers.alpha}`, { data: { retentionDays: 30 }, headers: sameOrigin })).status()).toBe(200);
    // A customer admin sees the customer's staff (and manages them) on its page.
    await page.goto(`/dashboard/customers/${customers.alpha}`);
    await expect(page.getByRole('table', { name: 'Staff members' }).getByRole('row').filter({ hasText: email })).toContainText('admin');
    expect((await page.request.get(`/api/admin/customers/${customers.beta}/members`)).status()).toBe(403);

    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      for (const [name, url] of [['overview', '/dashboard'], ['conversations', '/dashboard/conversations'], ['queue', '/dashboard/queue'], ['crawls', '/dashboard/crawls'], ['customer', `/dashboard/customers/${customers.alpha}`]]) {
        await page.goto(url!);
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${width}px`).toBeLessThanOrEqual(width);
        await screenshot(page, testInfo, `supabase-staff-${name}-${width}`);
      }
    }

    // Access tokens live 100 s, so after 10 s they are inside auth-js's refresh margin: proxy.ts
    // refreshes the session and sets new cookies; the page still renders for the staff member.
    const before = await authCookie();
    await page.waitForTimeout(11_000);
    await page.goto('/dashboard/conversations');
    await expect(page.getByRole('heading', { level: 1, name: 'Conversations' })).toBeVisible();
    expect(await authCookie()).not.toBe(before);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    expect(await authCookie()).toBe('');
    await page.goto('/dashboard');
    await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
    expect(errors).toEqual([]);
  });

  test('an agent of the customer sees its settings read-only and no staff section', async ({ page }) => {
    const errors = consoleErrors(page);
    const agent = { email: 'agent2@alpha.example', password: 'an agent’s long password' };
    const user = (await service('/auth/v1/admin/users', { ...agent, email_confirm: true })) as { id: string };
    await service('/rest/v1/rpc/customer_members_add', { customerId: customers.alpha, userId: user.id, role: 'agent' });
    await page.goto(`/login?next=/dashboard/customers/${customers.alpha}`);
    await page.getByLabel('Email').fill(agent.email);
    await page.getByLabel('Password').fill(agent.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'alpha shop' })).toBeVisible();
    await expect(page.getByText('The customer’s owners and admins change its settings.')).toBeVisible();
    await expect(page.getByRole('form', { name: 'Edit customer' })).toHaveCount(0);
    await expect(page.getByRole('region', { name: 'Staff members' })).toHaveCount(0);
    expect((await page.request.patch(`/api/admin/customers/${customers.alpha}`, { data: { retentionDays: 7 }, headers: sameOrigin })).status()).toBe(403);
    expect((await page.request.get(`/api/admin/customers/${customers.alpha}/members`)).status()).toBe(403);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    expect(errors).toEqual([]);
  });
});
