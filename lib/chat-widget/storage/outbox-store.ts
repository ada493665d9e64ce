/**
 * Where the widget's outbox (and session id) live in the browser.
 *
 * IndexedDB first: a transaction is on disk when it completes, so a message survives the browser
 * being killed right after Send. localStorage does not give that — Chromium batches its commits to
 * disk, and writes from the last seconds before a crash are lost (measured in tests/e2e:
 * SIGKILL 0–1 s after a write loses it; IndexedDB keeps it). Where IndexedDB is unavailable (some
 * private modes, blocked third-party storage) or refuses a write, safeLocalStorage takes over,
 * and memory after that; every write reports whether it was durable.
 */
import { safeLocalStorage, type SafeStorage, type StorageKind } from '@/lib/utils/storage';

export type OutboxStoreKind = 'indexeddb' | StorageKind;

export interface OutboxStore {
  /** Where writes currently go. */
  readonly kind: OutboxStoreKind;
  get(key: string): Promise<string | null>;
  /** `strict`: wait until the write is flushed to disk (new messages); otherwise on OS write. */
  put(key: string, value: string, options?: { strict?: boolean }): Promise<{ durable: boolean }>;
  delete(key: string): Promise<void>;
  /** Entries whose key starts with `prefix`. */
  list(prefix: string): Promise<[string, string][]>;
}

/** An OutboxStore over Web Storage (never throws; falls back to memory as SafeStorage does). */
export function webStorageOutboxStore(storage: SafeStorage): OutboxStore {
  return {
    get kind() {
      return storage.kind;
    },
    async get(key) {
      return storage.getItem(key);
    },
    async put(key, value) {
      return storage.setItem(key, value);
    },
    async delete(key) {
      storage.removeItem(key);
    },
    async list(prefix) {
      return storage.keys(prefix).flatMap((key) => {
        const value = storage.getItem(key);
        return value === null ? [] : [[key, value] as [string, string]];
      });
    },
  };
}

const DB_NAME = 'omniops-widget';
const STORE = 'outbox';

/** Keys starting with `prefix`: [prefix, prefix with its last character incremented). */
export function prefixRange(prefix: string): IDBKeyRange {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return IDBKeyRange.bound(prefix, end, false, true);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function completion(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

async function openIndexedDb(): Promise<IDBDatabase | null> {
  try {
    if (typeof indexedDB === 'undefined') return null;
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    return await request(open);
  } catch {
    return null; // blocked (SecurityError), or the browser refused to open it
  }
}

/**
 * The browser's outbox store: IndexedDB, with `fallback` (default safeLocalStorage) for anything
 * IndexedDB cannot do. Reads and deletes consult both, so nothing written to either is missed.
 */
export async function openOutboxStore(fallback: SafeStorage = safeLocalStorage): Promise<OutboxStore> {
  const web = webStorageOutboxStore(fallback);
  const db = await openIndexedDb();
  if (!db) return web;
  let usingFallback = false;
  /** Whether any write ever went to the fallback (only then can it hold a stale copy). */
  let fallbackWritten = false;
  const tx = (mode: IDBTransactionMode, strict = false) =>
    db.transaction(STORE, mode, { durability: strict ? 'strict' : 'default' });
  return {
    get kind() {
      return usingFallback ? web.kind : 'indexeddb';
    },
    async get(key) {
      try {
        const value = await request(tx('readonly').objectStore(STORE).get(key));
        if (typeof value === 'string') return value;
      } catch {
        // fall through to the fallback copy
      }
      return web.get(key);
    },
    async put(key, value, options) {
      try {
        const t = tx('readwrite', options?.strict);
        t.objectStore(STORE).put(value, key);
        await completion(t);
        usingFallback = false;
        if (fallbackWritten) await web.delete(key); // a stale fallback copy must not shadow this one
        return { durable: true };
      } catch {
        usingFallback = true; // quota, or storage taken away mid-session
        fallbackWritten = true;
        return web.put(key, value);
      }
    },
    async delete(key) {
      try {
        const t = tx('readwrite');
        t.objectStore(STORE).delete(key);
        await completion(t);
      } catch {
        // nothing more to do: the fallback copy (if any) goes below
      }
      await web.delete(key);
    },
    async list(prefix) {
      const found = new Map<string, string>();
      try {
        const range = prefixRange(prefix);
        const store = tx('readonly').objectStore(STORE);
        const [keys, values] = await Promise.all([request(store.getAllKeys(range)), request(store.getAll(range))]);
        keys.forEach((key, i) => found.set(String(key), String(values[i])));
      } catch {
        // unreadable: the fallback's entries only
      }
      for (const [key, value] of await web.list(prefix)) if (!found.has(key)) found.set(key, value);
      return [...found];
    },
  };
}
