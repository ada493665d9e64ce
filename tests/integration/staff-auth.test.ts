/**
 * Staff accounts with Supabase Auth: the real `@supabase/ssr` client against a GoTrue-protocol
 * server (tests/support/gotrue-server.ts) in front of the PostgREST double on a migrated PostgreSQL
 * database — the app configured exactly as on Supabase. Covers sign-in, proxy.ts's guard and
 * session refresh, memberships, the per-customer checks of replies and settings, and sign-out.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NextRequest } from 'next/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  addMember,
  resolveStaff,
  signInWithPassword,
  signOutSupabase,
  supabaseUser,
  visibleCustomerIds,
  type CookieJar,
  type Staff,
} from '@/lib/auth/staff';
import type { Config } from '@/lib/config';
import { getCustomer } from '@/lib/customers';
import { listConversations, scopedOverview, staffReply, staffUpdateCustomer } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import type { Db } from '@/lib/db/types';
import { HttpError, parseWith } from '@/lib/http';
import { sendMessages, sendSchema } from '@/lib/widget';
import type { Responder } from '@/lib/chat/responder';
import { proxy } from '@/proxy';
import { resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';
import { newCustomer } from '../support/fixtures';
import { startGotrueServer, type GotrueServer } from '../support/gotrue-server';
import { startPostgrestServer, type PostgrestServer } from '../support/postgrest-server';

const echo: Responder = { respond: async (m) => ({ reply: { content: `re: ${m.data.text}` }, needsStaff: false }) };

/** A browser's cookie jar: what the server sets, it sends back. */
function cookieJar(): CookieJar & { header(): string } {
  const cookies = new Map<string, string>();
  return {
    getAll: () => [...cookies].map(([name, value]) => ({ name, value })),
    setAll: (list) => {
      for (const { name, value, options } of list) {
        if (options?.maxAge === 0 || value === '') cookies.delete(name);
        else cookies.set(name, value);
      }
    },
    header: () => [...cookies].map(([n, v]) => `${n}=${v}`).join('; '),
  };
}

/** The Set-Cookie values of a proxy response applied to a jar. */
function applySetCookies(jar: CookieJar, response: Response): void {
  const list = response.headers.getSetCookie().map((line) => {
    const [pair = '', ...attrs] = line.split(';');
    const cut = pair.indexOf('=');
    const maxAge = attrs.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
    return { name: pair.slice(0, cut), value: pair.slice(cut + 1), options: maxAge ? { maxAge: Number(maxAge.slice(8)) } : {} };
  });
  jar.setAll(list, {});
}

const request = (pathname: string, cookie = '') =>
  new NextRequest(`http://127.0.0.1:3000${pathname}`, { headers: { host: '127.0.0.1:3000', ...(cookie ? { cookie } : {}) } });

describe('staff accounts with Supabase Auth', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let postgrest: PostgrestServer;
  let gotrue: GotrueServer;
  let config: Config;
  let db: Db;
  let customerA: string;
  let customerB: string;
  let staffUser: { id: string; email: string };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-staff-auth-'));

  beforeAll(async () => {
    pg = await migratedPostgres();
    const jwtSecret = crypto.randomBytes(32).toString('hex');
    postgrest = await startPostgrestServer({ databaseUrl: pg.database.url, jwtSecret });
    // Tokens live 100 s: fresh for 10 s, then inside auth-js's 90 s expiry margin, so refreshed.
    gotrue = await startGotrueServer({ jwtSecret, upstream: postgrest.url, accessTokenTtlSeconds: 100 });
    config = await useAppEnv({
      NEXT_PUBLIC_SUPABASE_URL: gotrue.url,
      NEXT_PUBLIC_SUPABASE_ANON_KEY: postgrest.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: postgrest.serviceRoleKey,
      OMNIOPS_DATA_DIR: dataDir,
      DB_FALLBACK: 'off',
    });
    db = await resolveDb(config);
    expect(db.kind).toBe('supabase');
    customerA = await newCustomer(pg.db, { name: 'Alpha Shop', plan: 'pro' });
    customerB = await newCustomer(pg.db, { name: 'Beta Shop' });
    staffUser = gotrue.addUser('agent@alpha.example', 'correct horse battery');
    expect(await addMember(db, { customerId: customerA, userId: staffUser.id })).toMatchObject({ created: true, role: 'agent' });
    // Idempotent: a repeat changes nothing.
    expect(await addMember(db, { customerId: customerA, userId: staffUser.id, role: 'owner' })).toMatchObject({ created: false, role: 'agent' });
    for (const [customerId, session] of [[customerA, 'alpha-visitor'], [customerB, 'beta-visitor']] as const) {
      const customer = (await getCustomer(pg.db, customerId))!;
      await sendMessages(pg.db, customer, parseWith(sendSchema, { key: customer.publicKey, sessionId: session, messages: [{ clientMessageId: 'm1', text: `hello from ${session}` }] }), echo);
    }
  });
  afterAll(async () => {
    vi.useRealTimers();
    await resetApp();
    await gotrue?.close();
    await postgrest?.close();
    await pg?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('without a session the dashboard redirects to /login and the admin APIs answer 401', async () => {
    const page = await proxy(request('/dashboard/conversations'));
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('http://127.0.0.1:3000/login?next=%2Fdashboard%2Fconversations');
    expect((await proxy(request('/api/admin/customers'))).status).toBe(401);
    // A forged cookie is no session.
    expect((await proxy(request('/dashboard', 'sb-127-auth-token=base64-e30'))).status).toBe(303);
  });

  it('a wrong password is refused and sets no cookie', async () => {
    const jar = cookieJar();
    const result = await signInWithPassword(config, jar, { email: staffUser.email, password: 'wrong' });
    expect(result).toMatchObject({ ok: false, status: 400 });
    expect(jar.getAll()).toEqual([]);
  });

  describe('a signed-in staff member', () => {
    const jar = cookieJar();
    let staff: Staff;

    beforeAll(async () => {
      const result = await signInWithPassword(config, jar, { email: 'Agent@Alpha.example', password: 'correct horse battery' });
      expect(result).toEqual({ ok: true, user: { id: staffUser.id, email: staffUser.email } });
      expect(jar.getAll().map((c) => c.name)).toEqual([expect.stringMatching(/^sb-127-auth-token(\.\d+)?$/)]);
      staff = (await resolveStaff(config, jar))!;
    });

    it('is a member of their customer only', () => {
      expect(staff).toEqual({
        kind: 'member',
        user: { id: staffUser.id, email: staffUser.email },
        memberships: [{ customerId: customerA, customerName: 'Alpha Shop', role: 'agent' }],
      });
      expect(visibleCustomerIds(staff)).toEqual([customerA]);
    });

    it('passes the guard on scoped pages and APIs; Queue, Crawl jobs and the other admin APIs are refused', async () => {
      for (const p of ['/dashboard', '/dashboard/conversations', `/dashboard/customers/${customerA}`]) {
        const response = await proxy(request(p, jar.header()));
        expect(response.headers.get('x-middleware-next'), p).toBe('1');
      }
      expect((await proxy(request(`/api/admin/customers/${customerA}`, jar.header()))).headers.get('x-middleware-next')).toBe('1');
      const queue = await proxy(request('/dashboard/queue', jar.header()));
      expect(queue.status).toBe(303);
      expect(queue.headers.get('location')).toBe('http://127.0.0.1:3000/dashboard?denied=%2Fdashboard%2Fqueue');
      expect((await proxy(request('/dashboard/crawls/x', jar.header()))).status).toBe(303);
      for (const p of ['/api/admin/customers', '/api/admin/queue/retry', '/api/admin/queue/purge', `/api/admin/customers/${customerA}/rotate-key`, `/api/admin/customers/${customerA}/export`, '/api/admin/crawl-jobs']) {
        expect((await proxy(request(p, jar.header()))).status, p).toBe(403);
      }
    });

    it('sees and answers only their customer’s conversations', async () => {
      const overview = await scopedOverview(db, visibleCustomerIds(staff));
      expect(overview.activity.messagesPerHour.reduce((n, p) => n + p.count, 0)).toBe(2); // Alpha's visitor + bot
      const all = await scopedOverview(db, null);
      expect(all.activity.messagesPerHour.reduce((n, p) => n + p.count, 0)).toBe(4);

      const alpha = (await listConversations(db, { customerId: customerA })).conversations[0]!;
      const beta = (await listConversations(db, { customerId: customerB })).conversations[0]!;
      const input = { content: 'Staff here', clientMessageId: 'staff-1' };
      await expect(staffReply(db, staff, beta.id, input)).rejects.toMatchObject({ status: 404 });
      expect((await listConversations(db, { customerId: customerB })).conversations[0]!.messageCount).toBe(2);
      const reply = await staffReply(db, staff, alpha.id, input);
      expect(reply).toMatchObject({ created: true, message: { role: 'staff', content: 'Staff here' } });
      expect((await staffReply(db, staff, alpha.id, input)).created).toBe(false);
    });

    it('edits their customer’s settings but not its plan, and not another customer', async () => {
      expect((await staffUpdateCustomer(db, staff, customerA, { retentionDays: 30 })).retentionDays).toBe(30);
      await expect(staffUpdateCustomer(db, staff, customerA, { plan: 'enterprise' })).rejects.toBeInstanceOf(HttpError);
      await expect(staffUpdateCustomer(db, staff, customerB, { name: 'Mine now' })).rejects.toMatchObject({ status: 403 });
      expect((await getCustomer(pg.db, customerA))!.plan).toBe('pro');
      expect((await getCustomer(pg.db, customerB))!.name).toBe('Beta Shop');
    });

    it('an expiring session is refreshed by the proxy: new cookies on the response, and they work', async () => {
      const before = jar.header();
      const refreshes = gotrue.refreshCount();
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 20_000 });
      try {
        const response = await proxy(request('/dashboard', before));
        expect(response.headers.get('x-middleware-next')).toBe('1');
        expect(gotrue.refreshCount()).toBe(refreshes + 1);
        // The page behind the proxy gets the refreshed session too.
        expect(response.headers.get('x-middleware-request-cookie') ?? '').toMatch(/sb-127-auth-token/);
        applySetCookies(jar, response);
        expect(jar.header()).not.toBe(before);
        expect(await supabaseUser(config, jar)).toEqual({ id: staffUser.id, email: staffUser.email });
        // The old cookies: their refresh token is spent, so once their access token has expired they
        // are no session (until then the access token itself stays valid, as on Supabase).
        vi.setSystemTime(Date.now() + 100_000);
        expect((await proxy(request('/dashboard', before))).status).toBe(303);
        // The refreshed session is refreshed again and still passes.
        const later = await proxy(request('/dashboard', jar.header()));
        expect(later.headers.get('x-middleware-next')).toBe('1');
        applySetCookies(jar, later);
      } finally {
        vi.useRealTimers();
      }
    });

    it('signing out revokes the session: its cookies no longer pass', async () => {
      const signedIn = jar.header();
      await signOutSupabase(config, jar);
      expect(jar.getAll()).toEqual([]);
      expect((await proxy(request('/dashboard', signedIn))).status).toBe(303);
    });
  });
});
