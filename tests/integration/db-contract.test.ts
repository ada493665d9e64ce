/**
 * One contract for the `Db` port, run against every adapter: embedded PGlite, the real PostgreSQL
 * server, and Supabase (the real supabase-js client against a PostgREST-protocol server over the
 * real PostgreSQL). An adapter that returns a different result shape or error code fails here.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbError } from '@/lib/db/errors';
import { SupabaseDb } from '@/lib/db/supabase';
import type { Db } from '@/lib/db/types';
import { migratedPostgres, sqlBackends } from '../support/databases';
import { startPostgrestServer } from '../support/postgrest-server';

interface Backend {
  db: Db;
  dispose(): Promise<void>;
}

const backends: Record<string, () => Promise<Backend>> = {
  ...sqlBackends,
  supabase: async () => {
    const pg = await migratedPostgres();
    const server = await startPostgrestServer({ databaseUrl: pg.database.url });
    const db = new SupabaseDb({ url: server.url, anonKey: server.anonKey, serviceRoleKey: server.serviceRoleKey });
    return {
      db,
      async dispose() {
        await db.close();
        await server.close();
        await pg.dispose();
      },
    };
  },
};

/** The rejection of `promise` as `{ name, code }` (fails the test if it resolves). */
async function failure(promise: Promise<unknown>): Promise<{ name: string; code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DbError);
    const e = error as DbError;
    return { name: e.name, code: e.code, message: e.message };
  }
  throw new Error('expected a rejection');
}

describe.each(Object.keys(backends))('Db contract: %s', (kind) => {
  let backend: Backend;
  let db: Db;

  beforeAll(async () => {
    backend = await backends[kind]!();
    db = backend.db;
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('reports its kind and answers ping', async () => {
    expect(db.kind).toBe(kind);
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('round-trips jsonb values unchanged', async () => {
    const value = {
      text: 'plain',
      unicode: 'Grüße, 你好, مرحبا, 👋🏽',
      quotes: `it's "quoted" \\ back\\slash; drop table customers; --`,
      numbers: [0, -1, 1.5, 1e21, Number.MAX_SAFE_INTEGER],
      flags: [true, false, null],
      nested: { deep: { deeper: { deepest: [1, { a: [] }] } } },
      empty: {},
    };
    expect(await db.rpc('system_echo', value)).toEqual(value);
    expect(await db.rpc('system_echo', [1, 'two', null])).toEqual([1, 'two', null]);
  });

  it('round-trips a large payload', async () => {
    const big = { blob: 'x'.repeat(1_000_000), items: Array.from({ length: 5000 }, (_, i) => ({ i })) };
    const echoed = await db.rpc<typeof big>('system_echo', big);
    expect(echoed.blob.length).toBe(1_000_000);
    expect(echoed.items).toHaveLength(5000);
    expect(echoed.items[4999]).toEqual({ i: 4999 });
  });

  it('treats omitted args as an empty object', async () => {
    expect(await db.rpc('system_echo')).toEqual({});
  });

  it('returns SQL null as null', async () => {
    expect(await db.rpc('customers_get', { id: crypto.randomUUID() })).toBeNull();
  });

  it('creates a customer with the documented shape, idempotently on its id', async () => {
    const id = crypto.randomUUID();
    const first = await db.rpc<{ created: boolean; customer: Record<string, unknown> }>('customers_create', {
      id,
      name: '  Acme Ltd ',
      allowedOrigins: ['https://acme.example', 'http://localhost:3000'],
    });
    expect(first.created).toBe(true);
    expect(Object.keys(first.customer).sort()).toEqual(
      ['allowedOrigins', 'createdAt', 'id', 'name', 'plan', 'publicKey', 'retentionDays', 'updatedAt'].sort(),
    );
    expect(first.customer).toMatchObject({
      id,
      name: 'Acme Ltd',
      plan: 'free',
      retentionDays: 90,
      allowedOrigins: ['https://acme.example', 'http://localhost:3000'],
    });
    expect(first.customer.publicKey).toMatch(/^pk_[a-f0-9]{32}$/);

    const repeat = await db.rpc<{ created: boolean; customer: Record<string, unknown> }>('customers_create', {
      id,
      name: 'Something else',
    });
    expect(repeat).toEqual({ created: false, customer: first.customer });

    const byKey = await db.rpc('customers_get_by_public_key', { publicKey: first.customer.publicKey });
    expect(byKey).toEqual(first.customer);
  });

  it('reports health with the schema version', async () => {
    const health = await db.rpc<Record<string, unknown>>('system_health');
    expect(Object.keys(health).sort()).toEqual(['database', 'now', 'ok', 'schemaVersion', 'serverVersion']);
    expect(health.ok).toBe(true);
    expect(health.schemaVersion).toMatch(/^\d{14}$/);
  });

  it('maps errors to one DbError with the SQLSTATE', async () => {
    expect(await failure(db.rpc('no_such_function', {}))).toMatchObject({ name: 'DbError', code: '42883' });
    expect(await failure(db.rpc('customers_create', { plan: 'free' }))).toEqual({
      name: 'DbError',
      code: '22023',
      message: 'name: required string',
    });
    expect((await failure(db.rpc('customers_get', { id: 'not-a-uuid' }))).code).toBe('22P02');
    expect((await failure(db.rpc('customers_create', { name: 'x', plan: 'gold' }))).code).toBe('23514');
    expect((await failure(db.rpc('customers_create', { name: 'x', allowedOrigins: ['javascript:alert(1)'] }))).code).toBe(
      '23514',
    );
    const publicKey = `pk_${crypto.randomBytes(16).toString('hex')}`;
    await db.rpc('customers_create', { name: 'first', publicKey });
    expect((await failure(db.rpc('customers_create', { name: 'second', publicKey }))).code).toBe('23505');
    // jsonb cannot store NUL: the server refuses it the same way everywhere.
    expect((await failure(db.rpc('system_echo', { s: 'a\u0000b' }))).code).toBe('22P05');
  });

  it('refuses function names that are not plain identifiers, before reaching the backend', async () => {
    for (const fn of ['Robert"); drop table customers; --', 'public.system_echo', '', 'a b']) {
      expect(await failure(db.rpc(fn, {}))).toMatchObject({ name: 'DbError', code: '42602' });
    }
  });

  it('serves concurrent calls', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => db.rpc('system_echo', { i })));
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })));
  });
});
