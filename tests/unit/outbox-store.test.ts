/**
 * The widget's browser outbox store (lib/chat-widget/storage/outbox-store.ts) on IndexedDB — here
 * fake-indexeddb, an in-memory implementation of the IndexedDB API — with its Web Storage
 * fallback: prefix listing, a write IndexedDB refuses going to the fallback (and the fallback's copy
 * never shadowing a later IndexedDB write), reads and deletes consulting both.
 */
import { IDBDatabase, IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openOutboxStore, prefixRange } from '@/lib/chat-widget/storage/outbox-store';
import { createSafeStorage } from '@/lib/utils/storage';
import { TestStorage } from '../support/web-storage';

beforeEach(() => {
  vi.stubGlobal('indexedDB', new IDBFactory());
  vi.stubGlobal('IDBKeyRange', IDBKeyRange);
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

const fallbackOn = (backing = new TestStorage()) => ({ backing, storage: createSafeStorage('local', () => backing) });

describe('outbox store', () => {
  it('uses Web Storage where there is no IndexedDB', async () => {
    vi.stubGlobal('indexedDB', undefined);
    const { backing, storage } = fallbackOn();
    const store = await openOutboxStore(storage);
    expect(store.kind).toBe('local');
    expect(await store.put('k', 'v')).toEqual({ durable: true });
    expect(backing.getItem('k')).toBe('v');
  });

  it('keeps entries in IndexedDB, lists them by prefix, and deletes them', async () => {
    const { backing, storage } = fallbackOn();
    const store = await openOutboxStore(storage);
    expect(store.kind).toBe('indexeddb');
    expect(await store.put('o:s1:a', '1', { strict: true })).toEqual({ durable: true });
    await store.put('o:s1:b', '2');
    await store.put('o:s10:c', '3'); // shares the text "o:s1" but not the prefix "o:s1:"
    await store.put('o:s1;', '4'); // the first key past the prefix range
    expect(backing.length).toBe(0); // nothing went to the fallback
    expect(await store.get('o:s1:a')).toBe('1');
    expect(await store.get('missing')).toBeNull();
    expect(await store.list('o:s1:')).toEqual([
      ['o:s1:a', '1'],
      ['o:s1:b', '2'],
    ]);
    await store.delete('o:s1:a');
    expect(await store.get('o:s1:a')).toBeNull();
    expect(await store.list('o:s1:')).toEqual([['o:s1:b', '2']]);
  });

  it('the prefix range runs from the prefix to just before its last character incremented', () => {
    const range = prefixRange('ab:');
    expect([range.lower, range.upper, range.lowerOpen, range.upperOpen]).toEqual(['ab:', 'ab;', false, true]);
  });

  it('writes to the fallback when IndexedDB refuses, reads and lists both, and a later IndexedDB write wins', async () => {
    const { backing, storage } = fallbackOn();
    const store = await openOutboxStore(storage);
    await store.put('o:x', 'in-idb');
    const refuse = vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    expect(await store.put('o:y', 'in-fallback')).toEqual({ durable: true });
    expect(store.kind).toBe('local');
    expect(backing.getItem('o:y')).toBe('in-fallback');
    // IndexedDB unreadable: reads and lists come from the fallback.
    expect(await store.get('o:y')).toBe('in-fallback');
    expect(await store.list('o:')).toEqual([['o:y', 'in-fallback']]);
    refuse.mockRestore();

    expect(await store.get('o:y')).toBe('in-fallback'); // not in IndexedDB: the fallback's copy
    expect(await store.list('o:')).toEqual([
      ['o:x', 'in-idb'],
      ['o:y', 'in-fallback'],
    ]);
    // IndexedDB takes writes again: the stale fallback copy goes, so it can never shadow this one.
    await store.put('o:y', 'newer');
    expect(store.kind).toBe('indexeddb');
    expect(backing.getItem('o:y')).toBeNull();
    expect(await store.get('o:y')).toBe('newer');
    // A delete removes both copies.
    await storage.setItem('o:x', 'stale');
    await store.delete('o:x');
    expect(await store.get('o:x')).toBeNull();
    expect(backing.getItem('o:x')).toBeNull();
  });

  it('falls back to Web Storage when IndexedDB cannot be opened', async () => {
    vi.stubGlobal('indexedDB', {
      open() {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      },
    });
    const { storage } = fallbackOn();
    expect((await openOutboxStore(storage)).kind).toBe('local');
  });

  it("never lets a copy an earlier page left in the fallback shadow IndexedDB's newer one", async () => {
    const { backing, storage } = fallbackOn();
    backing.setItem('o:y', 'stale'); // written to the fallback on an earlier page, when IndexedDB was full
    const store = await openOutboxStore(storage);
    await store.put('o:y', 'newer');
    expect(await store.list('o:')).toEqual([['o:y', 'newer']]);
    expect(await store.get('o:y')).toBe('newer');
  });

  it('sends a write to the fallback when IndexedDB aborts its transaction after it started', async () => {
    const { backing, storage } = fallbackOn();
    const store = await openOutboxStore(storage);
    const real = IDBDatabase.prototype.transaction;
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      const t = real.apply(this, args);
      if (args[1] === 'readwrite') queueMicrotask(() => t.abort()); // e.g. the disk filled up mid-write
      return t;
    });
    expect(await store.put('o:z', 'kept', { strict: true })).toEqual({ durable: true });
    expect(store.kind).toBe('local');
    expect(backing.getItem('o:z')).toBe('kept');
  });
});
