/**
 * One error type for every cache adapter. `reason` tells the fallback wrapper what to do:
 *  - `rejected`: the server answered and refused the command (e.g. incrementing a non-number, a list
 *    operation on a string). Redis is healthy; the caller has a bug, so the error reaches it.
 *  - `unavailable`: the server could not be reached, timed out, or failed (connection refused,
 *    offline, out of memory, bad credentials). The wrapper serves the call from memory instead.
 *  - `invalid`: the call was refused before reaching any backend (e.g. a TTL that is not a positive
 *    integer).
 */
export type CacheErrorReason = 'rejected' | 'unavailable' | 'invalid';

export class CacheError extends Error {
  override readonly name = 'CacheError';
  constructor(
    readonly reason: CacheErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Error replies caused by the command itself. Every other reply (`WRONGPASS`, `NOAUTH`, `OOM`,
 * `LOADING`, `READONLY`, `MASTERDOWN`, …) is about the server's state, i.e. `unavailable`.
 */
const COMMAND_REJECTION = /^(?:ERR|WRONGTYPE) /;

/** Classify a Redis error reply (`ERR value is not an integer or out of range`, …). */
export function fromErrorReply(backend: string, reply: string, cause?: unknown): CacheError {
  const reason = COMMAND_REJECTION.test(reply) ? 'rejected' : 'unavailable';
  return new CacheError(reason, `[omniops] [cache] ${backend}: ${reply}`, { cause });
}

export function unavailable(backend: string, error: unknown): CacheError {
  if (error instanceof CacheError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CacheError('unavailable', `[omniops] [cache] ${backend} unavailable: ${message}`, { cause: error });
}

export function assertTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new CacheError('invalid', `[omniops] [cache] TTL must be a positive integer of milliseconds, got ${ttlMs}`);
  }
}
