/**
 * Finding 9 of issue 14, CSRF: the admin APIs are authenticated by cookies (the admin session, a
 * Supabase Auth session), accepted any content type and checked no origin, so a page on another
 * site — or a sibling subdomain, which counts as same-site for SameSite=Lax — could make a signed-in
 * administrator's browser create customers, rotate widget keys, purge the queue. Every admin
 * mutation must refuse a cross-site or origin-less request (403), a body that is not JSON (415:
 * HTML forms cannot send application/json without a CORS preflight, which the app never allows) and
 * an oversized body (413), and change nothing.
 *
 * The routes are enumerated from app/api/admin/**: a new mutation without the check fails here.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ADMIN_BODY_BYTES } from '@/lib/http';
import { getPersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import { startCrawl } from '@/lib/jobs';
import { adminCookie, resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';
import { insertCompletedMessages, newCustomer } from '../support/fixtures';

const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
const APP = 'http://app.omniops.test';
const MUTATIONS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

const ROOT = path.resolve(import.meta.dirname, '../..');

/** Every route file under app/api/admin, as its URL path with [params] left in. */
function adminRoutes(): { file: string; route: string }[] {
  const dir = path.join(ROOT, 'app/api/admin');
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => path.basename(f) === 'route.ts')
    .map((f) => ({ file: path.join(dir, f), route: `/api/admin/${path.dirname(f).split(path.sep).join('/')}` }))
    .sort((a, b) => a.route.localeCompare(b.route));
}

describe('CSRF on the admin APIs (postgres)', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-csrf-'));
  const ids = { customer: '', conversation: '', job: 'csrf-job', member: crypto.randomUUID() };
  const mutations: { name: string; route: string; method: string; handler: Handler }[] = [];

  /** The [params] of a route: each named after the segment before it. */
  const paramsOf = (route: string) => {
    const params: Record<string, string> = {};
    const segments = route.split('/');
    segments.forEach((segment, i) => {
      const name = /^\[(.+)\]$/.exec(segment)?.[1];
      if (!name) return;
      const parent = segments[i - 1];
      params[name] =
        parent === 'customers' ? ids.customer : parent === 'conversations' ? ids.conversation : parent === 'crawl-jobs' ? ids.job : ids.member;
    });
    return params;
  };
  const urlOf = (route: string) => `${APP}${route.replace(/\[(.+?)\]/g, (_, name: string) => paramsOf(route)[name]!)}`;

  /** A body each route would accept, so that only the CSRF check stands between it and a change. */
  const bodyOf = (route: string): unknown =>
    ({
      '/api/admin/customers': { id: crypto.randomUUID(), name: 'Created by CSRF' },
      '/api/admin/customers/[id]': { name: 'Renamed by CSRF', allowedOrigins: ['https://evil.example'] },
      '/api/admin/customers/[id]/rotate-key': { publicKey: `pk_${crypto.randomBytes(12).toString('hex')}` },
      '/api/admin/customers/[id]/members': { email: 'attacker@evil.example', role: 'owner' },
      '/api/admin/conversations/[id]/replies': { content: 'Send your card number', clientMessageId: 'csrf-reply' },
      '/api/admin/queue/retry': { ids: [crypto.randomUUID()] },
      '/api/admin/crawl-jobs': { customerId: ids.customer, jobId: 'csrf-started', startUrl: 'http://127.0.0.1:9/' },
    })[route] ?? {};

  /** Everything the tests could have changed: every public table's rows. */
  async function fingerprint(): Promise<Record<string, string>> {
    const tables = await pg.db.admin.query<{ t: string }>(
      `select c.relname as t from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r' order by 1`,
    );
    const out: Record<string, string> = {};
    for (const { t } of tables) {
      const [row] = await pg.db.admin.query<{ d: string }>(`select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as d from public.${t} x`);
      out[t] = row!.d;
    }
    return out;
  }

  const call = (m: (typeof mutations)[number], init: { headers: Record<string, string>; body?: BodyInit | null }) =>
    m.handler(new Request(urlOf(m.route), { method: m.method, headers: { cookie: adminCookie(ADMIN_TOKEN), host: 'app.omniops.test', ...init.headers }, body: init.body }), {
      params: Promise.resolve(paramsOf(m.route)),
    });

  beforeAll(async () => {
    pg = await migratedPostgres();
    await useAppEnv({ DATABASE_URL: pg.database.url, DB_FALLBACK: 'off', OMNIOPS_ADMIN_TOKEN: ADMIN_TOKEN, OMNIOPS_DATA_DIR: dataDir });
    ids.customer = await newCustomer(pg.db, { name: 'Victim Co', plan: 'pro' });
    const [conversation] = await pg.db.admin.query<{ id: string }>(`insert into conversations (customer_id, session_id) values ($1, 's1') returning id`, [ids.customer]);
    ids.conversation = conversation!.id;
    await pg.db.admin.query(`insert into customer_members (customer_id, user_id, role) values ($1, $2, 'owner')`, [ids.customer, ids.member]);
    await insertCompletedMessages(pg.db.admin, ids.customer, 3, `now() - interval '1 day'`);
    await startCrawl(await getPersistentJobManager(pg.db), { customerId: ids.customer, jobId: ids.job, startUrl: 'https://victim.example/' });
    for (const { file, route } of adminRoutes()) {
      const handlers = (await import(file)) as Record<string, unknown>;
      for (const method of MUTATIONS) {
        if (typeof handlers[method] === 'function') mutations.push({ name: `${method} ${route}`, route, method, handler: handlers[method] as Handler });
      }
    }
  });
  afterAll(async () => {
    await resetApp();
    await pg?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds every admin mutation (the list the checks below run over)', () => {
    expect(mutations.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'POST /api/admin/customers',
        'PATCH /api/admin/customers/[id]',
        'POST /api/admin/customers/[id]/rotate-key',
        'POST /api/admin/customers/[id]/export',
        'POST /api/admin/customers/[id]/members',
        'DELETE /api/admin/customers/[id]/members/[userId]',
        'POST /api/admin/conversations/[id]/replies',
        'POST /api/admin/queue/purge',
        'POST /api/admin/queue/retry',
        'POST /api/admin/crawl-jobs',
        'POST /api/admin/crawl-jobs/[id]/cancel',
      ]),
    );
  });

  const hostile: [string, number, Record<string, string>, (route: string) => BodyInit][] = [
    ['a cross-site fetch with a JSON body', 403, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, (r) => JSON.stringify(bodyOf(r))],
    ['a sibling subdomain (same-site)', 403, { origin: 'http://evil.omniops.test', 'sec-fetch-site': 'same-site', 'content-type': 'application/json' }, (r) => JSON.stringify(bodyOf(r))],
    ['a forged Origin under a cross-site Sec-Fetch-Site', 403, { origin: APP, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, (r) => JSON.stringify(bodyOf(r))],
    ['an opaque origin (sandboxed frame, data: URL)', 403, { origin: 'null', 'content-type': 'application/json' }, (r) => JSON.stringify(bodyOf(r))],
    ['no Origin and no Sec-Fetch-Site', 403, { 'content-type': 'application/json' }, (r) => JSON.stringify(bodyOf(r))],
    ['a cross-site text/plain form post', 403, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' }, (r) => JSON.stringify(bodyOf(r))],
    ['a same-origin text/plain post', 415, { origin: APP, 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain;charset=UTF-8' }, (r) => JSON.stringify(bodyOf(r))],
    ['a same-origin url-encoded form post', 415, { origin: APP, 'sec-fetch-site': 'same-origin', 'content-type': 'application/x-www-form-urlencoded' }, () => 'name=x'],
    ['a same-origin multipart post', 415, { origin: APP, 'sec-fetch-site': 'same-origin', 'content-type': 'multipart/form-data; boundary=x' }, () => '--x--'],
    ['no content type', 415, { origin: APP, 'sec-fetch-site': 'same-origin' }, (r) => JSON.stringify(bodyOf(r))],
    ['a look-alike type', 415, { origin: APP, 'sec-fetch-site': 'same-origin', 'content-type': 'application/jsonx' }, (r) => JSON.stringify(bodyOf(r))],
    ['a 10 MB body (declared)', 413, { origin: APP, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', 'content-length': String(10 * 1024 * 1024) }, () => `"${'a'.repeat(10 * 1024 * 1024 - 2)}"`],
  ];

  it.each(hostile)('%s: refused (%i) by every admin mutation, changing nothing', async (_label, status, headers, body) => {
    const before = await fingerprint();
    const answers: Record<string, number> = {};
    for (const m of mutations) {
      const response = await call(m, { headers, body: body(m.route) });
      answers[m.name] = response.status;
      if (response.status === status) expect(await response.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect(answers).toEqual(Object.fromEntries(mutations.map((m) => [m.name, status])));
    expect(await fingerprint()).toEqual(before);
  });

  it('a streamed body past the limit is cut off, not read whole (413)', async () => {
    const m = mutations.find((x) => x.name === 'POST /api/admin/customers')!;
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        if (pulled > 10 * 1024 * 1024) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const response = await m.handler(
      new Request(urlOf(m.route), {
        method: 'POST',
        headers: { cookie: adminCookie(ADMIN_TOKEN), host: 'app.omniops.test', origin: APP, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit),
      { params: Promise.resolve({}) },
    );
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(MAX_ADMIN_BODY_BYTES + 4 * chunk.byteLength);
  });

  it('accepts the dashboard’s own requests: same-origin JSON (Sec-Fetch-Site, or Origin alone, or behind a proxy)', async () => {
    const create = mutations.find((m) => m.name === 'POST /api/admin/customers')!;
    const body = () => JSON.stringify({ id: crypto.randomUUID(), name: 'Legit Co' });
    for (const headers of [
      { origin: APP, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
      { origin: APP, 'content-type': 'application/json; charset=utf-8' },
      { 'sec-fetch-site': 'same-origin', 'content-type': 'Application/JSON' },
      { origin: 'https://chat.example.com', 'x-forwarded-host': 'chat.example.com', 'x-forwarded-proto': 'https', 'content-type': 'application/json' },
    ] as Record<string, string>[]) {
      expect({ headers, status: (await call(create, { headers, body: body() })).status }).toEqual({ headers, status: 201 });
    }
  });
});
