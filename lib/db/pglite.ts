/**
 * Embedded PostgreSQL (PGlite, Postgres compiled to WASM) stored in a directory.
 *
 * One instance per directory per process, shared through `globalThis` so that Next.js hot reloads
 * and several importers never open a second copy; the directory is guarded by a lock file so a
 * second process gets a clear error instead of corrupting it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { acquireDirLock } from './dir-lock';
import { assertFunctionName, fromDriverError, fromTransactionError } from './errors';
import { loadMigrations, migrate } from './migrations';
import type { AdminCapable, Db, SqlAdmin, SqlTx } from './types';

interface Shared {
  pglite: Promise<PGlite>;
  refs: number;
  release: () => void;
}

const globalForPglite = globalThis as typeof globalThis & { __omniopsPglite?: Map<string, Shared> };
const instances = (globalForPglite.__omniopsPglite ??= new Map());

function txApi(q: PGlite | Transaction): SqlTx {
  return {
    async exec(sql) {
      try {
        await q.exec(sql);
      } catch (error) {
        throw fromDriverError(error);
      }
    },
    async query<R extends Record<string, unknown>>(sql: string, params?: unknown[]) {
      try {
        return (await q.query<R>(sql, params)).rows;
      } catch (error) {
        throw fromDriverError(error);
      }
    },
  };
}

export class PgliteDb implements Db, AdminCapable {
  readonly kind = 'pglite' as const;
  readonly admin: SqlAdmin;
  private closed = false;

  private constructor(
    private readonly pglite: PGlite,
    private readonly dir: string,
  ) {
    this.admin = {
      ...txApi(pglite),
      transaction: async (fn) => {
        try {
          return await pglite.transaction((tx) => fn(txApi(tx)));
        } catch (error) {
          throw fromTransactionError(error);
        }
      },
    };
  }

  /**
   * Open (or share) the PGlite database stored in `dir`, creating it if needed. `memory://` opens a
   * private in-memory database (tests).
   */
  static async open(dir: string): Promise<PgliteDb> {
    if (dir === 'memory://') return new PgliteDb(await PGlite.create(), dir);
    const key = path.resolve(dir);
    let shared = instances.get(key);
    if (!shared) {
      fs.mkdirSync(path.dirname(key), { recursive: true });
      const release = acquireDirLock(`${key}.lock`, `the embedded database ${key}`);
      const pglite = PGlite.create(key).catch((error: unknown) => {
        instances.delete(key);
        release();
        throw error;
      });
      shared = { pglite, refs: 0, release };
      instances.set(key, shared);
    }
    shared.refs++;
    return new PgliteDb(await shared.pglite, key);
  }

  async rpc<T = unknown>(fn: string, args: object = {}): Promise<T> {
    assertFunctionName(fn);
    try {
      const result = await this.pglite.query<{ r: T }>(`select "${fn}"($1::jsonb) as r`, [args]);
      return result.rows[0]!.r;
    } catch (error) {
      throw fromDriverError(error, fn);
    }
  }

  async ping(): Promise<void> {
    await this.admin.query('select 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.dir === 'memory://') return this.pglite.close();
    const shared = instances.get(this.dir);
    if (!shared || --shared.refs > 0) return;
    instances.delete(this.dir);
    try {
      await this.pglite.close();
    } finally {
      shared.release();
    }
  }
}

/** `PgliteDb.open(dir)` with every pending migration of supabase/migrations/ applied. */
export async function openMigratedPglite(dir: string): Promise<PgliteDb> {
  const db = await PgliteDb.open(dir);
  await migrate(db.admin, loadMigrations());
  return db;
}
