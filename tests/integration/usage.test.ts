/**
 * Usage metering on PostgreSQL and PGlite: counters per calendar month (UTC) that start from zero
 * in a new month without any job (time frozen with the `at` argument), plan limits refused as
 * values with a message naming the limit and the reset, and — on PostgreSQL — no lost update and
 * no overshoot under concurrent increments.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDb } from '@/lib/db/postgres';
import type { Db } from '@/lib/db/types';
import { getUsage, incrementUsage } from '@/lib/usage';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { newCustomer } from '../support/fixtures';
import { sqlStateOf } from '../support/sql';

const at = (iso: string) => new Date(iso);

describe.each(sqlBackendKinds)('usage on %s', (kind) => {
  let backend: SqlBackend;
  let db: Db;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    db = backend.db;
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('counts per type and month, and starts a new month from zero without any job', async () => {
    const customerId = await newCustomer(db, { plan: 'pro' });
    for (let i = 0; i < 3; i++) await incrementUsage(db, customerId, 'message', { at: at('2026-11-30T23:59:59.999Z') });
    expect(await incrementUsage(db, customerId, 'crawl', { at: at('2026-11-15T12:00:00Z') })).toEqual({
      allowed: true,
      type: 'crawl',
      plan: 'pro',
      used: 1,
      limit: 300,
      remaining: 299,
      monthYear: '2026-11',
      resetsAt: '2026-12-01T00:00:00Z',
    });

    // One millisecond later it is December in UTC (whatever the server's time zone).
    const december = await incrementUsage(db, customerId, 'message', { at: at('2026-12-01T00:00:00Z') });
    expect(december).toMatchObject({ allowed: true, used: 1, monthYear: '2026-12', resetsAt: '2027-01-01T00:00:00Z' });

    expect(await getUsage(db, customerId, { at: at('2026-11-20T00:00:00Z') })).toEqual({
      customerId,
      plan: 'pro',
      monthYear: '2026-11',
      resetsAt: '2026-12-01T00:00:00Z',
      messages: { used: 3, limit: 25_000, remaining: 24_997 },
      crawls: { used: 1, limit: 300, remaining: 299 },
      exports: { used: 0, limit: 300, remaining: 300 },
    });
    expect((await getUsage(db, customerId, { at: at('2026-12-31T23:59:59Z') }))?.messages).toEqual({
      used: 1,
      limit: 25_000,
      remaining: 24_999,
    });
    // A month nobody used reads as zeros.
    expect((await getUsage(db, customerId, { at: at('2027-02-10T00:00:00Z') }))?.messages.used).toBe(0);
    // Without `at`, the database's clock decides the month.
    const now = new Date();
    const thisMonth = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(await incrementUsage(db, customerId, 'export')).toMatchObject({ allowed: true, used: 1, monthYear: thisMonth });
  });

  it('refuses an increment beyond the plan limit without counting it, naming the limit and the reset', async () => {
    const customerId = await newCustomer(db); // free: 10 crawls a month
    const november = at('2026-11-10T08:00:00Z');
    for (let i = 1; i <= 10; i++) {
      expect(await incrementUsage(db, customerId, 'crawl', { at: november })).toMatchObject({ allowed: true, used: i, remaining: 10 - i });
    }
    const refused = await incrementUsage(db, customerId, 'crawl', { at: november });
    expect(refused).toEqual({
      allowed: false,
      type: 'crawl',
      plan: 'free',
      used: 10,
      limit: 10,
      remaining: 0,
      monthYear: '2026-11',
      resetsAt: '2026-12-01T00:00:00Z',
      message: 'monthly crawl limit reached: 10 of 10 used on the free plan; resets 2026-12-01T00:00:00Z',
    });
    expect((await getUsage(db, customerId, { at: november }))?.crawls).toEqual({ used: 10, limit: 10, remaining: 0 });
    // Other counters are unaffected, and the next month is allowed again.
    expect(await incrementUsage(db, customerId, 'message', { at: november })).toMatchObject({ allowed: true, used: 1 });
    expect(await incrementUsage(db, customerId, 'crawl', { at: at('2026-12-01T00:00:00Z') })).toMatchObject({ allowed: true, used: 1 });

    // An amount that does not fit is refused whole, even in a fresh month.
    const bulk = await incrementUsage(db, customerId, 'export', { at: november, amount: 11 });
    expect(bulk).toMatchObject({ allowed: false, used: 0, limit: 10 });
    expect(bulk.allowed === false && bulk.message).toBe(
      'monthly export limit reached: 0 of 10 used on the free plan (11 more requested); resets 2026-12-01T00:00:00Z',
    );
    expect(await incrementUsage(db, customerId, 'export', { at: november, amount: 10 })).toMatchObject({ allowed: true, used: 10 });
  });

  it('never limits an enterprise customer', async () => {
    const customerId = await newCustomer(db, { plan: 'enterprise' });
    const result = await incrementUsage(db, customerId, 'message', { amount: 1_000_000 });
    expect(result).toMatchObject({ allowed: true, used: 1_000_000, limit: null, remaining: null });
    expect((await getUsage(db, customerId))?.crawls).toEqual({ used: 0, limit: null, remaining: null });
  });

  it('applies a changed limit to the next increment', async () => {
    const customerId = await newCustomer(db);
    const november = at('2026-11-10T08:00:00Z');
    await incrementUsage(db, customerId, 'export', { at: november, amount: 10 });
    expect((await incrementUsage(db, customerId, 'export', { at: november })).allowed).toBe(false);
    await backend.admin.exec(`update plan_limits set exports = 20 where plan = 'free'`);
    try {
      expect(await incrementUsage(db, customerId, 'export', { at: november })).toMatchObject({ allowed: true, used: 11, limit: 20 });
    } finally {
      await backend.admin.exec(`update plan_limits set exports = 10 where plan = 'free'`);
    }
  });

  it('rejects bad arguments and unknown customers as errors', async () => {
    const customerId = await newCustomer(db);
    await expect(incrementUsage(db, 'not-a-uuid', 'message')).rejects.toThrow(/customerId/);
    await expect(incrementUsage(db, customerId, 'dataset' as 'message')).rejects.toThrow(/type/);
    await expect(incrementUsage(db, customerId, 'message', { amount: 0 })).rejects.toThrow(/amount/);
    await expect(incrementUsage(db, crypto.randomUUID(), 'message')).rejects.toMatchObject({ name: 'DbError', code: 'P0002' });
    await expect(db.rpc('usage_increment', { customerId, type: 'dataset' })).rejects.toMatchObject({ code: '22023' });
    expect(await getUsage(db, crypto.randomUUID())).toBeNull();
  });

  it('lets members read plans but change neither plans nor usage', async () => {
    const claims = { role: 'authenticated', sub: crypto.randomUUID() };
    expect(await sqlStateOf(backend.admin, 'authenticated', claims, 'select plan from plan_limits')).toBe('ok');
    expect(await sqlStateOf(backend.admin, 'authenticated', claims, `update plan_limits set messages = null`)).toBe('42501');
    expect(await sqlStateOf(backend.admin, 'anon', {}, 'select plan from plan_limits')).toBe('42501');
    expect(await sqlStateOf(backend.admin, 'authenticated', claims, `select private.usage_consume(gen_random_uuid(), 'message', 1, now())`)).toBe(
      '42501',
    );
  });
});

describe('usage on postgres, concurrently', () => {
  let backend: SqlBackend;
  let pools: PostgresDb[];

  beforeAll(async () => {
    backend = await sqlBackends.postgres();
    // Four server instances, each with its own pool of 10 connections.
    pools = Array.from({ length: 4 }, () => new PostgresDb(backend.url!));
  });
  afterAll(async () => {
    await Promise.all(pools?.map((pool) => pool.close()) ?? []);
    await backend?.dispose();
  });

  const concurrently = <T>(count: number, fn: (db: Db, i: number) => Promise<T>) =>
    Promise.all(Array.from({ length: count }, (_, i) => fn(pools[i % pools.length]!, i)));

  it('loses no increment when 400 arrive at once, including the first of the month', async () => {
    const customerId = await newCustomer(backend.db, { plan: 'enterprise' });
    const results = await concurrently(400, (db) => incrementUsage(db, customerId, 'message', { at: at('2026-11-01T00:00:00Z') }));
    expect(results.every((r) => r.allowed)).toBe(true);
    expect(results.map((r) => r.used).sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect((await getUsage(backend.db, customerId, { at: at('2026-11-01T00:00:00Z') }))?.messages.used).toBe(400);
  });

  it('lets exactly the limit through when 100 increments race for 10 free crawls', async () => {
    const customerId = await newCustomer(backend.db);
    const results = await concurrently(100, (db) => incrementUsage(db, customerId, 'crawl', { at: at('2026-11-01T00:00:00Z') }));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results.filter((r) => !r.allowed).every((r) => r.used === 10)).toBe(true);
    expect((await getUsage(backend.db, customerId, { at: at('2026-11-01T00:00:00Z') }))?.crawls.used).toBe(10);
  });
});
