/**
 * Customers (tenants): typed wrappers over the customers_* RPCs, with the zod schema every entry
 * point (API, CLI, seed) validates input with.
 */
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { getConfig } from '@/lib/config';
import type { Db } from '@/lib/db/types';

export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

export interface Customer {
  id: string;
  name: string;
  /** The widget's public key (`pk_…`), shown in the embed snippet. */
  publicKey: string;
  /** Origins (`https://shop.example`) allowed to embed the widget. */
  allowedOrigins: string[];
  plan: Plan;
  retentionDays: number;
  createdAt: string;
  updatedAt: string;
}

/** An origin as browsers send it in `Origin`: scheme://host[:port], normalised to lower case. */
export const originSchema = z
  .string()
  .trim()
  .transform((value, ctx) => {
    try {
      const url = new URL(value);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin !== 'null') return url.origin;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: `not an http(s) origin: ${JSON.stringify(value)}` });
    return z.NEVER;
  });

export const customerInputSchema = z.object({
  /** Client-supplied id: repeating a create with the same id is a no-op. */
  id: z.guid().optional(),
  name: z.string().trim().min(1).max(200),
  allowedOrigins: z.array(originSchema).max(100).default([]),
  plan: z.enum(PLANS).default('free'),
  retentionDays: z.number().int().min(1).max(3650).default(90),
});
export type CustomerInput = z.input<typeof customerInputSchema>;

/** A new widget key: `pk_` + 32 hex digits (128 random bits). */
export function newPublicKey(): string {
  return `pk_${crypto.randomBytes(16).toString('hex')}`;
}

/**
 * Create a customer, idempotently on `id`: `created` is false when it already existed (unchanged).
 * The id and widget key are chosen here, never by the database, so the call means the same on any
 * backend: replayed into the primary after an outage, it creates the very customer the fallback did.
 */
export async function createCustomer(db: Db, input: CustomerInput): Promise<{ customer: Customer; created: boolean }> {
  const parsed = customerInputSchema.parse(input);
  try {
    return await db.rpc('customers_create', { ...parsed, id: parsed.id ?? crypto.randomUUID(), publicKey: newPublicKey() });
  } finally {
    forgetCachedCustomers(db); // a key remembered as unknown may be the new customer's
  }
}

/** The demo tenant `npm start` seeds into the embedded database (fixed id: seeding is idempotent). */
export const DEMO_CUSTOMER_ID = '00000000-0000-4000-8000-00000000de00';

export async function getCustomer(db: Db, id: string): Promise<Customer | null> {
  return db.rpc('customers_get', { id });
}

export async function getCustomerByPublicKey(db: Db, publicKey: string): Promise<Customer | null> {
  return db.rpc('customers_get_by_public_key', { publicKey });
}

export const customerUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    allowedOrigins: z.array(originSchema).max(100),
    plan: z.enum(PLANS),
    retentionDays: z.number().int().min(1).max(3650),
  })
  .partial();

/** A widget key as customers.public_key's check allows it. */
export const publicKeySchema = z.string().regex(/^pk_[A-Za-z0-9]{16,64}$/, 'not a widget key');

export const rotateKeySchema = z.object({
  /** The new key, chosen by the page that offered the rotation: a repeated request sets the same key. */
  publicKey: publicKeySchema,
});

export function listCustomers(db: Db): Promise<Customer[]> {
  return db.rpc('customers_list', {});
}

export async function updateCustomer(db: Db, id: string, input: z.input<typeof customerUpdateSchema>): Promise<Customer> {
  try {
    return await db.rpc('customers_update', { ...customerUpdateSchema.parse(input), id: z.guid().parse(id) });
  } finally {
    forgetCachedCustomers(db);
  }
}

export async function rotateKey(db: Db, id: string, publicKey: string = newPublicKey()): Promise<Customer> {
  try {
    return await db.rpc('customers_rotate_key', { id: z.guid().parse(id), ...rotateKeySchema.parse({ publicKey }) });
  } finally {
    forgetCachedCustomers(db);
  }
}

// ---- customers by widget key, cached ------------------------------------------------------------

/** Widget keys whose customer a process keeps. @default 10,000 */
export const CUSTOMER_CACHE_MAX = 10_000;
/**
 * Unknown keys a process remembers as unknown, apart from the known ones: a client sending random
 * keys evicts only other unknown keys, and memory stays bounded. @default 1,000
 */
export const UNKNOWN_KEY_CACHE_MAX = 1_000;

interface KeyCache {
  known: LRUCache<string, Customer>;
  unknown: LRUCache<string, true>;
  /** Counts forgets: a load that started before one is not cached (it may predate the write). */
  generation: number;
}

/** One cache per `Db`: a Db is one process's view of one database (tests open several). */
const keyCaches = new WeakMap<Db, KeyCache>();

function keyCacheOf(db: Db, ttl: number): KeyCache {
  let cache = keyCaches.get(db);
  if (!cache) {
    // ttlResolution 0: read the clock on every access, so an entry never outlives its TTL.
    cache = {
      known: new LRUCache({ max: CUSTOMER_CACHE_MAX, ttl, ttlResolution: 0 }),
      unknown: new LRUCache({ max: UNKNOWN_KEY_CACHE_MAX, ttl, ttlResolution: 0 }),
      generation: 0,
    };
    keyCaches.set(db, cache);
  }
  return cache;
}

/**
 * The customer of widget key `publicKey` as `load` reads it from `db`, kept in this process for
 * WIDGET_CUSTOMER_CACHE_MS (config `widgetCustomerCacheMs`; 0: always loaded): the widget asks for
 * it on every send and poll. An update or a key rotation through this module forgets every cached
 * customer of `db` at once; other processes see it when their entry expires. Unknown keys are
 * remembered as unknown too, in a smaller cache of their own.
 */
export async function cachedByPublicKey<T extends Customer>(
  db: Db,
  publicKey: string,
  load: (publicKey: string) => Promise<T | null>,
  ttl: number = getConfig().widgetCustomerCacheMs,
): Promise<T | null> {
  if (ttl <= 0) return load(publicKey);
  const cache = keyCacheOf(db, ttl);
  const known = cache.known.get(publicKey);
  if (known) return known as T;
  if (cache.unknown.get(publicKey)) return null;
  const generation = cache.generation;
  const loaded = await load(publicKey);
  if (generation !== cache.generation) return loaded;
  if (loaded) cache.known.set(publicKey, loaded);
  else cache.unknown.set(publicKey, true);
  return loaded;
}

/** Forget every customer cached for `db` (after a write to customers). */
export function forgetCachedCustomers(db: Db): void {
  const cache = keyCaches.get(db);
  if (!cache) return;
  cache.generation++;
  cache.known.clear();
  cache.unknown.clear();
}
