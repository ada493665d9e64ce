/**
 * lib/customers.ts cachedByPublicKey without a database: what is loaded, what is served from memory,
 * and that unknown keys — a client sending random ones — neither grow memory without bound nor push
 * the known customers out. tests/integration/widget-customer-cache.test.ts covers expiry and
 * forgetting on real PostgreSQL through the routes.
 */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UNKNOWN_KEY_CACHE_MAX, cachedByPublicKey, forgetCachedCustomers, type Customer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';

const TTL = 60_000;
const known = { id: 'c1', publicKey: 'pk_known0000000000000000', allowedOrigins: [] } as unknown as Customer;

function counting() {
  const loads: string[] = [];
  const db = { kind: 'pglite' } as unknown as Db;
  const load = async (key: string) => {
    loads.push(key);
    return key === known.publicKey ? known : null;
  };
  return { db, loads, get: (key: string) => cachedByPublicKey(db, key, load, TTL) };
}

const randomKey = () => `pk_${crypto.randomBytes(16).toString('hex')}`;

describe('cachedByPublicKey', () => {
  it('loads a key once, known or unknown, until forgotten; each Db has its own cache', async () => {
    const { db, loads, get } = counting();
    const unknown = randomKey();
    expect(await get(known.publicKey)).toBe(known);
    expect(await get(known.publicKey)).toBe(known);
    expect(await get(unknown)).toBeNull();
    expect(await get(unknown)).toBeNull();
    expect(loads).toEqual([known.publicKey, unknown]);
    forgetCachedCustomers(db);
    await get(known.publicKey);
    await get(unknown);
    expect(loads).toEqual([known.publicKey, unknown, known.publicKey, unknown]);
    const another = counting();
    await another.get(known.publicKey);
    expect(another.loads).toEqual([known.publicKey]);
  });

  it('does not cache a load that a forget overtook (it may predate the write)', async () => {
    const { db, loads, get } = counting();
    let release!: () => void;
    const slow = (key: string) =>
      new Promise<Customer | null>((resolve) => {
        loads.push(key);
        release = () => resolve(known);
      });
    const pending = cachedByPublicKey(db, known.publicKey, slow, TTL);
    forgetCachedCustomers(db);
    release();
    expect(await pending).toBe(known);
    await get(known.publicKey);
    await get(known.publicKey);
    expect(loads).toEqual([known.publicKey, known.publicKey]);
  });

  it(`keeps at most ${UNKNOWN_KEY_CACHE_MAX} unknown keys, apart from the known customers`, async () => {
    const { loads, get } = counting();
    await get(known.publicKey);
    const first = randomKey();
    await get(first);
    for (let i = 0; i < UNKNOWN_KEY_CACHE_MAX; i++) await get(randomKey());
    expect(loads).toHaveLength(UNKNOWN_KEY_CACHE_MAX + 2);
    // The flood pushed the oldest unknown key out (bounded), never the known customer.
    await get(known.publicKey);
    expect(loads).toHaveLength(UNKNOWN_KEY_CACHE_MAX + 2);
    await get(first);
    expect(loads.at(-1)).toBe(first);
    expect(loads).toHaveLength(UNKNOWN_KEY_CACHE_MAX + 3);
  });

  it('loads every time with a TTL of 0', async () => {
    const { db, loads } = counting();
    const load = async (key: string) => {
      loads.push(key);
      return known;
    };
    await cachedByPublicKey(db, known.publicKey, load, 0);
    await cachedByPublicKey(db, known.publicKey, load, 0);
    expect(loads).toHaveLength(2);
  });
});
