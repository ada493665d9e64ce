/**
 * Failures of a transfer, each with a code a caller (CLI, route, test) branches on and a message
 * that names its origin: `[omniops] [transfer] checksum mismatch: …`.
 */
import { DbError, SqlState, isConnectionError } from '@/lib/db/errors';
import type { Db } from '@/lib/db/types';

export type TransferErrorCode =
  /** The file is not a transfer file of a version we read (syntax, schema, structure). */
  | 'format'
  /** The file's data does not match its recorded checksums: corrupted or edited. */
  | 'checksum'
  /** EXPORT_SIGNING_KEY is set and the file is unsigned, signed with another key, or forged. */
  | 'signature'
  /** An encrypted file without its key (EXPORT_ENCRYPTION_KEY), or one that fails authentication. */
  | 'decrypt'
  | 'unknown_customer'
  /** The target already has the customer and the conflict policy refuses to touch it. */
  | 'customer_exists'
  | 'unreachable'
  /** The target lacks the transfer functions or a column of the file: migrate it first. */
  | 'schema'
  /** The target's data does not match the file after an import. */
  | 'validation'
  /** The database refused the import (a constraint, a row of another customer, …). */
  | 'refused';

export class TransferError extends Error {
  override readonly name = 'TransferError';
  constructor(
    readonly code: TransferErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`[omniops] [transfer] ${message}`, options);
  }
}

/**
 * A database failure in transfer terms: unreachable (SQLSTATE class 08), a target without the
 * transfer functions or a column of the file (42883, 42703: migrate it), an existing customer
 * (23505 from the commit's conflict check), anything else the database refused. `where` names the
 * backend, so a message says which side of a migration failed.
 */
export function fromDbError(error: unknown, where: string): unknown {
  if (!(error instanceof DbError)) return error;
  if (isConnectionError(error)) return new TransferError('unreachable', `${where} is unreachable: ${error.message}`, { cause: error });
  if (error.code === SqlState.undefinedFunction) {
    return new TransferError(
      'schema',
      `${where} has no function ${error.fn ?? '(transfer)'}: apply the migrations to it first (npm run db:migrate -- --url …)`,
      { cause: error },
    );
  }
  if (error.code === '42703') return new TransferError('schema', `${where}: ${error.message}`, { cause: error });
  if (error.code === SqlState.uniqueViolation && /already exists on the target/.test(error.message)) {
    return new TransferError('customer_exists', `${where}: ${error.message}`, { cause: error });
  }
  return new TransferError('refused', `${where} refused the import: ${error.message}${error.details.detail ? ` (${error.details.detail})` : ''}`, {
    cause: error,
  });
}

/** `db.rpc` with failures mapped by `fromDbError`. */
export async function transferRpc<T>(db: Db, where: string, fn: string, args: object): Promise<T> {
  try {
    return await db.rpc<T>(fn, args);
  } catch (error) {
    throw fromDbError(error, where);
  }
}
