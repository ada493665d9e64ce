/**
 * safeLocalStorage / safeSessionStorage: Web Storage that never throws.
 *
 * Browser storage fails in ordinary situations: reading `window.localStorage` throws a
 * SecurityError in a third-party iframe whose storage is blocked, `setItem` throws
 * QuotaExceededError when the origin's quota is full, and there is no `window` at all during
 * server rendering. Here every such failure degrades to an in-memory map for the life of the page,
 * and each write says whether it reached durable storage, so callers (the widget's outbox) can tell
 * the visitor when messages would not survive a reload.
 */

export type StorageKind = 'local' | 'session' | 'memory';

export interface WriteResult {
  /** True when the value reached the browser's storage (survives a reload); false when only in memory. */
  durable: boolean;
}

export interface SafeStorage {
  /** Where writes go now: the browser storage, or memory when it is unavailable. */
  readonly kind: StorageKind;
  getItem(key: string): string | null;
  setItem(key: string, value: string): WriteResult;
  removeItem(key: string): void;
  /** Keys starting with `prefix`, from browser storage and memory. */
  keys(prefix?: string): string[];
}

type BackingLookup = () => Storage | undefined;

const defaultBacking =
  (which: 'localStorage' | 'sessionStorage'): BackingLookup =>
  () =>
    typeof window === 'undefined' ? undefined : window[which]; // the getter itself may throw SecurityError

/**
 * A never-throwing wrapper of the Storage returned by `lookup` (default: `window.localStorage`).
 * `lookup` is evaluated lazily and again after failures, so storage that becomes available later
 * (or frees quota) is used again.
 */
export function createSafeStorage(kind: 'local' | 'session', lookup?: BackingLookup): SafeStorage {
  const getBacking = lookup ?? defaultBacking(kind === 'local' ? 'localStorage' : 'sessionStorage');
  /** Values written while browser storage refused them; they shadow the browser's copy. */
  const memory = new Map<string, string>();
  /** Keys removed while browser storage was unreachable. */
  const removed = new Set<string>();

  const backing = (): Storage | undefined => {
    try {
      return getBacking() ?? undefined;
    } catch {
      return undefined;
    }
  };

  const probe = (): boolean => {
    const storage = backing();
    if (!storage) return false;
    try {
      const key = '__omniops_probe__';
      storage.setItem(key, '1');
      storage.removeItem(key);
      return true;
    } catch {
      return false;
    }
  };

  return {
    get kind(): StorageKind {
      return probe() ? kind : 'memory';
    },

    getItem(key) {
      if (memory.has(key)) return memory.get(key)!;
      if (removed.has(key)) return null;
      try {
        return backing()?.getItem(key) ?? null;
      } catch {
        return null;
      }
    },

    setItem(key, value) {
      removed.delete(key);
      try {
        const storage = backing();
        if (storage) {
          storage.setItem(key, value);
          memory.delete(key);
          return { durable: true };
        }
      } catch {
        // QuotaExceededError, SecurityError, or a storage that went away: keep it in memory.
      }
      memory.set(key, value);
      return { durable: false };
    },

    removeItem(key) {
      memory.delete(key);
      try {
        const storage = backing();
        if (storage) {
          storage.removeItem(key);
          removed.delete(key);
          return;
        }
      } catch {
        // fall through: remember the removal so reads agree
      }
      removed.add(key);
    },

    keys(prefix = '') {
      const found = new Set<string>();
      try {
        const storage = backing();
        for (let i = 0; storage && i < storage.length; i++) {
          const key = storage.key(i);
          if (key !== null && key.startsWith(prefix) && !removed.has(key)) found.add(key);
        }
      } catch {
        // unreadable: memory only
      }
      for (const key of memory.keys()) if (key.startsWith(prefix)) found.add(key);
      return [...found];
    },
  };
}

export const safeLocalStorage: SafeStorage = createSafeStorage('local');
export const safeSessionStorage: SafeStorage = createSafeStorage('session');
