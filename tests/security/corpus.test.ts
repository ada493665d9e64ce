/**
 * The hostile-input corpus: well over a thousand requests generated across every route handler
 * under app/api (found on disk, so a new route joins the corpus by existing) — wrong types, huge
 * and deeply nested JSON, control characters and invalid UTF-8, wrong content types, oversize
 * bodies, SQL and HTML payloads, bad and foreign ids, forged, expired and replayed credentials —
 * on a real PostgreSQL database with two customers' data in it.
 *
 * For every request: no 5xx; a refusal is a 4xx in the error shape of lib/http.ts
 * (`{ error: { code, message } }`); and a refused request changed no row (the whole database is
 * fingerprinted before and after it). The totals are printed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, SESSION_TTL_MS, issueSession } from '@/lib/auth/admin-session';
import { createCustomer } from '@/lib/customers';
import { adminCookie, resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';

const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
const CRON_SECRET = crypto.randomBytes(24).toString('hex');
const METRICS_TOKEN = crypto.randomBytes(24).toString('hex');
const SITE = 'https://shop.example';
const APP = 'http://localhost:3000';
const FULL_CORPUS = new Set(['administrator', 'anonymous', 'widget page, forged forwarding']);
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response> | Response;
interface Route {
  /** `/api/admin/customers/[id]/members/[userId]` */
  pattern: string;
  params: string[];
  handlers: Partial<Record<(typeof METHODS)[number], Handler>>;
}

/** Every route.ts under app/api, with its exported method handlers. */
async function discoverRoutes(): Promise<Route[]> {
  const root = path.resolve(__dirname, '../../app');
  const files = (fs.readdirSync(path.join(root, 'api'), { recursive: true }) as string[])
    .filter((file) => path.basename(file) === 'route.ts')
    .map((file) => path.join(root, 'api', file))
    .sort();
  const routes: Route[] = [];
  for (const file of files) {
    const mod = (await import(file)) as Record<string, unknown>;
    const pattern = '/' + path.relative(root, path.dirname(file)).split(path.sep).join('/');
    const handlers: Route['handlers'] = {};
    for (const method of METHODS) if (typeof mod[method] === 'function') handlers[method] = mod[method] as Handler;
    routes.push({ pattern, params: [...pattern.matchAll(/\[(\w+)\]/g)].map((m) => m[1]!), handlers });
  }
  return routes;
}

interface Credential {
  name: string;
  headers: Record<string, string>;
}

interface Body {
  name: string;
  contentType?: string;
  body?: BodyInit;
}

const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const INVALID_UTF8 = Buffer.concat([Buffer.from('{"text":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
const CONTROL = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('') + '\u2028\u2029\ufeff\ud800';

/** Hostile values for any field: wrong types, injection payloads, oversize and odd strings. */
const HOSTILE_VALUES: unknown[] = [
  null,
  -1,
  1e308,
  true,
  [],
  {},
  "' or 1=1; drop table customers; --",
  '<script>alert(1)</script><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  CONTROL,
  'x'.repeat(70_000),
  { $ne: null, __proto__: { admin: true } },
];

/** The bodies every mutating handler receives, with `valid` (a plausible body of its own) varied. */
function bodies(valid: Record<string, unknown>): Body[] {
  const json = (name: string, value: unknown): Body => ({ name, contentType: 'application/json', body: JSON.stringify(value) });
  const out: Body[] = [
    { name: 'no body' },
    { name: 'not JSON', contentType: 'application/json', body: '{"unterminated": ' },
    json('JSON null', null),
    json('JSON array', [valid]),
    json('JSON string', 'hello'),
    json('JSON number', 42),
    { name: 'nesting 100,000 deep', contentType: 'application/json', body: deep(100_000) },
    { name: '2 MiB body', contentType: 'application/json', body: JSON.stringify({ ...valid, pad: 'x'.repeat(2 * 1024 * 1024) }) },
    { name: 'invalid UTF-8', contentType: 'application/json', body: new Uint8Array(INVALID_UTF8) },
    { name: 'text/plain', contentType: 'text/plain', body: JSON.stringify(valid) },
    { name: 'form post', contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ json: JSON.stringify(valid) }).toString() },
    { name: 'multipart', contentType: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--' },
    json('extra fields', { ...valid, role: 'owner', customerId: crypto.randomUUID(), isAdmin: true }),
  ];
  for (const field of Object.keys(valid)) {
    HOSTILE_VALUES.forEach((value, i) => out.push(json(`${field} = hostile #${i}`, { ...valid, [field]: value })));
  }
  return out;
}

describe('hostile-input corpus (postgres, every route handler under app/api)', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let routes: Route[];
  let fingerprintSql: string;
  const customers: { id: string; key: string }[] = [];

  beforeAll(async () => {
    pg = await migratedPostgres();
    for (const name of ['Alpha', 'Beta']) {
      const { customer } = await createCustomer(pg.db, { name, allowedOrigins: [SITE], plan: 'free' });
      customers.push({ id: customer.id, key: customer.publicKey });
    }
    await useAppEnv({
      DATABASE_URL: pg.database.url,
      DB_FALLBACK: 'off',
      NODE_ENV: 'production',
      OMNIOPS_ADMIN_TOKEN: ADMIN_TOKEN,
      OMNIOPS_METRICS_TOKEN: METRICS_TOKEN,
      CRON_SECRET,
    });
    routes = await discoverRoutes();
    const tables = await pg.db.admin.query<{ name: string }>(
      `select quote_ident(schemaname) || '.' || quote_ident(tablename) as name from pg_tables
        where schemaname = 'public' order by 1`,
    );
    fingerprintSql =
      'select ' +
      tables.map(({ name }) => `(select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from ${name} t)`).join(" || ':' || ") +
      ' as fingerprint';
  });
  afterAll(async () => {
    await resetApp();
    await pg?.dispose();
  });

  const fingerprint = async () => (await pg.db.admin.query<{ fingerprint: string }>(fingerprintSql))[0]!.fingerprint;

  it('answers at least 1,000 hostile requests with no 5xx, refusals as 4xx in the error shape, and no row changed by a refusal', async () => {
    const [alpha, beta] = customers as [{ id: string; key: string }, { id: string; key: string }];
    const credentials: Credential[] = [
      { name: 'anonymous', headers: {} },
      { name: 'administrator', headers: { cookie: adminCookie(ADMIN_TOKEN), origin: APP, 'sec-fetch-site': 'same-origin' } },
      { name: 'forged session', headers: { cookie: `${SESSION_COOKIE}=${crypto.randomBytes(32).toString('base64url')}` } },
      { name: 'expired session', headers: { cookie: `${SESSION_COOKIE}=${issueSession(ADMIN_TOKEN, Date.now() - SESSION_TTL_MS - 60_000)}` } },
      { name: 'wrong bearer', headers: { authorization: `Bearer ${crypto.randomBytes(24).toString('hex')}` } },
      { name: 'widget page, forged forwarding', headers: { origin: SITE, 'x-forwarded-for': '10.0.0.1, 127.0.0.1', 'x-forwarded-host': 'evil.example' } },
    ];
    const idValues = [alpha.id, beta.id, crypto.randomUUID(), "1' or '1'='1", '..%2F..%2Fcustomers', 'x'.repeat(5_000), '%00', '-1', 'sync-once'];
    const validBody: Record<string, unknown> = {
      key: alpha.key,
      sessionId: 'corpus-session',
      messages: [{ clientMessageId: 'corpus-1', text: 'hello' }],
      customerId: beta.id,
      startUrl: 'http://169.254.169.254/latest/meta-data/',
      content: 'reply',
      clientMessageId: 'corpus-reply',
      name: 'Renamed',
      email: 'someone@example.com',
      role: 'owner',
      token: 'not-the-token',
      ids: [crypto.randomUUID()],
    };
    const queries = [
      '',
      `?key=${alpha.key}&sessionId=corpus-session&after=-1`,
      `?key=${beta.key}&sessionId=${'s'.repeat(10_000)}`,
      `?customerId=${beta.id}&limit=1e308&afterId=abc&q=${encodeURIComponent("' or 1=1 --")}`,
      `?customerId=${encodeURIComponent('<script>')}&limit=-5&offset=NaN`,
      `?key=%00%ff&after=${'9'.repeat(400)}`,
    ];

    const totals = { requests: 0, byStatus: new Map<number, number>(), refused: 0, accepted: 0, serverErrors: [] as string[] };
    const failures: string[] = [];
    let before = await fingerprint();

    const send = async (route: Route, method: keyof Route['handlers'], label: string, url: string, params: Record<string, string>, init: RequestInit) => {
      const handler = route.handlers[method]!;
      let response: Response;
      try {
        response = await handler(new Request(url, { ...init, method }), { params: Promise.resolve(params) });
      } catch (error) {
        totals.serverErrors.push(`${label}: threw ${(error as Error).message}`);
        return;
      }
      totals.requests += 1;
      totals.byStatus.set(response.status, (totals.byStatus.get(response.status) ?? 0) + 1);
      const text = await response.text();
      const after = await fingerprint();
      if (response.status >= 500) totals.serverErrors.push(`${label}: ${response.status} ${text.slice(0, 200)}`);
      else if (response.status >= 400) {
        totals.refused += 1;
        let shape: unknown;
        try {
          shape = JSON.parse(text);
        } catch {
          shape = undefined;
        }
        const error = (shape as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
        if (typeof error?.code !== 'string' || typeof error.message !== 'string') failures.push(`${label}: ${response.status} without the error shape: ${text.slice(0, 120)}`);
        if (after !== before) failures.push(`${label}: refused with ${response.status} but changed rows`);
      } else totals.accepted += 1;
      before = after;
    };

    for (const route of routes) {
      for (const method of Object.keys(route.handlers) as (keyof Route['handlers'])[]) {
        const paramSets: Record<string, string>[] = route.params.length === 0 ? [{}] : idValues.map((v) => Object.fromEntries(route.params.map((p) => [p, v])));
        for (const params of paramSets) {
          const pathname = route.pattern.replace(/\[(\w+)\]/g, (_, p: string) => encodeURIComponent(params[p]!));
          for (const credential of credentials) {
            const label = (extra: string) => `${method} ${pathname.slice(0, 80)} as ${credential.name}: ${extra}`;
            if (method === 'GET' || method === 'OPTIONS') {
              for (const query of queries) await send(route, method, label(query.slice(0, 60)), `${APP}${pathname}${query}`, params, { headers: credential.headers });
              continue;
            }
            // The full body corpus once per route for the credentials that get past authentication
            // (administrator, widget page) and anonymously; a few representative bodies for the
            // other credentials and ids, to keep the run short.
            const all = bodies(validBody);
            const chosen = params === paramSets[0] && FULL_CORPUS.has(credential.name) ? all : all.slice(0, 4);
            for (const body of chosen) {
              const headers = { ...credential.headers, ...(body.contentType ? { 'content-type': body.contentType } : {}) };
              await send(route, method, label(body.name), `${APP}${pathname}`, params, { headers, body: body.body });
            }
          }
        }
      }
    }

    // A replayed widget send: accepted once, then the same request again changes nothing.
    const messagesRoute = routes.find((r) => r.pattern === '/api/widget/messages')!;
    const replay = () =>
      new Request(`${APP}/api/widget/messages`, {
        method: 'POST',
        headers: { origin: SITE, 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9' },
        body: JSON.stringify({ key: beta.key, sessionId: 'replayed-session', messages: [{ clientMessageId: 'replayed-1', text: 'once' }] }),
      });
    const first = await messagesRoute.handlers.POST!(replay(), { params: Promise.resolve({}) });
    expect(first.status).toBe(200);
    const afterFirst = await fingerprint();
    const second = await messagesRoute.handlers.POST!(replay(), { params: Promise.resolve({}) });
    expect(second.status).toBeLessThan(500);
    expect(await fingerprint()).toBe(afterFirst);

    const statuses = [...totals.byStatus.entries()].sort(([a], [b]) => a - b).map(([status, n]) => `${status}×${n}`).join(' ');
    // A report, not a log line: the corpus's totals belong in every run's output (docs/security.md).
    process.stdout.write(
      `[corpus] ${totals.requests} requests over ${routes.length} routes: ${totals.refused} refused (4xx), ${totals.accepted} accepted, ` +
        `${totals.serverErrors.length} 5xx or thrown; statuses ${statuses}\n`,
    );
    expect(totals.serverErrors).toEqual([]);
    expect(failures).toEqual([]);
    expect(totals.requests).toBeGreaterThanOrEqual(1_000);
  }, 600_000);
});
