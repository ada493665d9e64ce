import { describe, expect, it } from 'vitest';
import { createSafeStorage } from '@/lib/utils/storage';
import { TestStorage } from '../support/web-storage';

describe('safe storage', () => {
  it('reads and writes browser storage when it works', () => {
    const backing = new TestStorage();
    const storage = createSafeStorage('local', () => backing);
    expect(storage.kind).toBe('local');
    expect(storage.setItem('a', '1')).toEqual({ durable: true });
    expect(backing.getItem('a')).toBe('1');
    expect(storage.getItem('a')).toBe('1');
    expect(storage.keys()).toEqual(['a']);
    storage.removeItem('a');
    expect(storage.getItem('a')).toBeNull();
  });

  it('never throws when storage access is blocked (SecurityError), falling back to memory', () => {
    const backing = new TestStorage();
    backing.blocked = true;
    const storage = createSafeStorage('local', () => backing);
    expect(storage.kind).toBe('memory');
    expect(storage.setItem('a', '1')).toEqual({ durable: false });
    expect(storage.getItem('a')).toBe('1');
    expect(storage.keys()).toEqual(['a']);
    storage.removeItem('a');
    expect(storage.getItem('a')).toBeNull();
  });

  it('never throws when the window.localStorage getter itself throws', () => {
    const storage = createSafeStorage('local', () => {
      throw new DOMException('denied', 'SecurityError');
    });
    expect(storage.kind).toBe('memory');
    expect(storage.setItem('k', 'v')).toEqual({ durable: false });
    expect(storage.getItem('k')).toBe('v');
  });

  it('keeps a value in memory when the quota is exceeded, and reports it as not durable', () => {
    const backing = new TestStorage(200);
    const storage = createSafeStorage('local', () => backing);
    expect(storage.setItem('small', 'x')).toEqual({ durable: true });
    expect(storage.setItem('big', 'y'.repeat(500))).toEqual({ durable: false });
    expect(storage.getItem('big')).toBe('y'.repeat(500));
    expect(backing.getItem('big')).toBeNull();
    expect(storage.keys().sort()).toEqual(['big', 'small']);
    // Room again: the next write is durable and memory no longer shadows it.
    storage.removeItem('small');
    expect(storage.setItem('big', 'z')).toEqual({ durable: true });
    expect(backing.getItem('big')).toBe('z');
  });

  it('works without a window at all (server rendering)', () => {
    const storage = createSafeStorage('session');
    expect(storage.kind).toBe('memory');
    expect(storage.setItem('k', 'v')).toEqual({ durable: false });
    expect(storage.getItem('k')).toBe('v');
  });

  it('agrees with itself when storage fails between a write and a removal', () => {
    const backing = new TestStorage();
    const storage = createSafeStorage('local', () => backing);
    storage.setItem('k', 'v');
    backing.blocked = true;
    storage.removeItem('k');
    expect(storage.getItem('k')).toBeNull();
    backing.blocked = false;
    expect(storage.getItem('k')).toBeNull(); // the removal is remembered even though it never reached storage
  });
});
