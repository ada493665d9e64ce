/**
 * Finding 9 of issue 14: adding a staff member by e-mail told the caller whether that address has a
 * Supabase Auth account (201 for one, 404 "no Supabase Auth account has this address" otherwise), so
 * any customer's owner or admin could probe the project's accounts — every other customer's staff.
 * Now an address without an account is invited (Supabase Auth sends the e-mail) and added: the answer
 * is the same for both, status and shape, "invited or added".
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST as addMemberRoute } from '@/app/api/admin/customers/[id]/members/route';
import { addMember } from '@/lib/auth/members';
import { signInWithPassword, type CookieJar } from '@/lib/auth/staff';
import { resolveDb } from '@/lib/db/resolve';
import { resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';
import { newCustomer } from '../support/fixtures';
import { startGotrueServer, type GotrueServer } from '../support/gotrue-server';
import { startPostgrestServer, type PostgrestServer } from '../support/postgrest-server';

const APP = 'http://127.0.0.1:3000';

function cookieJar(): CookieJar & { header(): string } {
  const cookies = new Map<string, string>();
  return {
    getAll: () => [...cookies].map(([name, value]) => ({ name, value })),
    setAll: (list) => {
      for (const { name, value } of list) cookies.set(name, value);
    },
    header: () => [...cookies].map(([n, v]) => `${n}=${v}`).join('; '),
  };
}

/** What the caller can compare: the status, and the body with its ids and times blanked. */
async function observable(response: Response) {
  const body = JSON.stringify(await response.json())
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})?/g, '<time>')
    .replace(/"[^"@]+@[^"]+"/g, '<email>');
  return { status: response.status, body };
}

describe('adding a staff member does not reveal which e-mails have accounts', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let postgrest: PostgrestServer;
  let gotrue: GotrueServer;
  let customer: string;
  const owner = cookieJar();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-enum-'));

  const add = (email: string) =>
    addMemberRoute(
      new Request(`${APP}/api/admin/customers/${customer}/members`, {
        method: 'POST',
        headers: { cookie: owner.header(), 'content-type': 'application/json', origin: APP },
        body: JSON.stringify({ email, role: 'agent' }),
      }),
      { params: Promise.resolve({ id: customer }) },
    );

  beforeAll(async () => {
    pg = await migratedPostgres();
    const jwtSecret = crypto.randomBytes(32).toString('hex');
    postgrest = await startPostgrestServer({ databaseUrl: pg.database.url, jwtSecret });
    gotrue = await startGotrueServer({ jwtSecret, upstream: postgrest.url });
    const config = await useAppEnv({
      NEXT_PUBLIC_SUPABASE_URL: gotrue.url,
      NEXT_PUBLIC_SUPABASE_ANON_KEY: postgrest.anonKey,
      SUPABASE_SERVICE_ROLE_KEY: postgrest.serviceRoleKey,
      OMNIOPS_DATA_DIR: dataDir,
      DB_FALLBACK: 'off',
    });
    customer = await newCustomer(pg.db, { name: 'Prober Shop' });
    const me = gotrue.addUser('owner@prober.example', 'a long enough password');
    await addMember(await resolveDb(config), { customerId: customer, userId: me.id, role: 'owner' });
    expect((await signInWithPassword(config, owner, { email: me.email, password: 'a long enough password' })).ok).toBe(true);
  });
  afterAll(async () => {
    await resetApp();
    await gotrue?.close();
    await postgrest?.close();
    await pg?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers an address with an account and one without alike, and the second is invited', async () => {
    // Someone else's staff: an account of the project, not a member of this customer.
    gotrue.addUser('agent@other-customer.example', 'their own password');
    const known = await observable(await add('agent@other-customer.example'));
    const unknown = await observable(await add('nobody@nowhere.example'));
    expect(unknown).toEqual(known);
    expect(known.status).toBe(201);
    expect(gotrue.invitations()).toEqual(['nobody@nowhere.example']);
    // A repeat is the same no-op for both.
    expect(await observable(await add('Nobody@Nowhere.example'))).toEqual(await observable(await add('agent@other-customer.example')));
    expect(gotrue.invitations()).toEqual(['nobody@nowhere.example']);
  });
});
