/**
 * Supabase's two API key formats through the real supabase-js client and the PostgREST double
 * (tests/support/supabase-keys.ts models the gateway): the current `sb_secret_…` / `sb_publishable_…`
 * keys, which are not JWTs, act as the service_role / anon roles like the legacy JWT keys; a staff
 * member's own token decides their role whichever key carries it; an unknown key is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@/lib/config';
import { SupabaseDb } from '@/lib/db/supabase';
import { migratedPostgres } from '../support/databases';
import { newCustomer } from '../support/fixtures';
import { startPostgrestServer, type PostgrestServer } from '../support/postgrest-server';

describe('Supabase API keys: current (sb_…) and legacy (JWT)', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let server: PostgrestServer;
  let customerId: string;

  beforeAll(async () => {
    pg = await migratedPostgres();
    server = await startPostgrestServer({ databaseUrl: pg.database.url });
    customerId = await newCustomer(pg.db, { name: 'Keyed Shop' });
  });
  afterAll(async () => {
    await server?.close();
    await pg?.dispose();
  });

  const dbWith = (env: Record<string, string | undefined>, accessToken?: string) =>
    new SupabaseDb(loadConfig({ NEXT_PUBLIC_SUPABASE_URL: server.url, ...env }).supabase!, { accessToken });

  it('the secret key (SUPABASE_SECRET_KEY) and the legacy service-role key (SUPABASE_SERVICE_ROLE_KEY) both act as service_role', async () => {
    expect(server.secretKey).toMatch(/^sb_secret_/);
    for (const env of [{ SUPABASE_SECRET_KEY: server.secretKey }, { SUPABASE_SERVICE_ROLE_KEY: server.serviceRoleKey }]) {
      const db = dbWith(env);
      await expect(db.ping()).resolves.toBeUndefined();
      expect(await db.rpc('customers_get', { id: customerId })).toMatchObject({ id: customerId, name: 'Keyed Shop' });
    }
  });

  it('the publishable key stands for anon: service-role RPCs are refused with it', async () => {
    expect(server.publishableKey).toMatch(/^sb_publishable_/);
    // As if the publishable key were configured in the secret key's place by mistake (lib/config.ts refuses that).
    const anon = new SupabaseDb({ url: server.url, anonKey: server.publishableKey, serviceRoleKey: server.publishableKey });
    await expect(anon.rpc('customers_get', { id: customerId })).rejects.toMatchObject({ code: '42501' });
  });

  it('a staff member’s own token decides their role (authenticated) under the publishable key as under the anon key', async () => {
    const token = server.sign({ role: 'authenticated', sub: '00000000-0000-4000-8000-00000000abcd', aud: 'authenticated' });
    for (const env of [
      { SUPABASE_SECRET_KEY: server.secretKey, NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY: server.publishableKey },
      { SUPABASE_SERVICE_ROLE_KEY: server.serviceRoleKey, NEXT_PUBLIC_SUPABASE_ANON_KEY: server.anonKey },
    ]) {
      const member = dbWith(env, token);
      // Granted to authenticated, filtered by RLS to their (here: no) customers.
      expect(await member.rpc('customers_list', {})).toEqual([]);
      expect(await member.rpc('customers_get', { id: customerId })).toBeNull();
      // Not granted to authenticated at all.
      await expect(member.rpc('customers_update', { id: customerId, name: 'Mine' })).rejects.toMatchObject({ code: '42501' });
    }
  });

  it('refuses an unknown key of either format (401, a configuration error rather than an outage)', async () => {
    for (const key of ['sb_secret_NotThisProjectsKey0123456789abc', server.serviceRoleKey.slice(0, -4) + 'AAAA']) {
      await expect(dbWith({ SUPABASE_SECRET_KEY: key }).ping()).rejects.toMatchObject({ code: '28000' });
    }
    const res = await fetch(`${server.url}/rest/v1/rpc/system_ping`, { method: 'POST', headers: { apikey: 'sb_publishable_wrong', 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ message: 'Invalid API key' });
  });
});
