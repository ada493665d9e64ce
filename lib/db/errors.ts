/**
 * One error type for every adapter, carrying the SQLSTATE, so callers branch on meaning, not backend.
 * Adapter-specific failures are mapped onto SQLSTATEs (e.g. PostgREST's PGRST202 → 42883, a refused
 * TCP connection or failed fetch → 08001).
 */
const DB_ERROR = Symbol.for('omniops.DbError');

export class DbError extends Error {
  /**
   * Next.js loads a module once per server layer (instrumentation.ts, route handlers, pages), so
   * the process-wide Db opened by one copy throws that copy's DbError into code compiled with
   * another: `instanceof DbError` checks a brand every copy shares, not the class's identity.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DB_ERROR] === true;
  }

  readonly [DB_ERROR] = true;
  override readonly name = 'DbError';
  constructor(
    /** SQLSTATE, e.g. `23505`; connection problems are class `08`. */
    readonly code: string,
    message: string,
    readonly details: {
      fn?: string;
      detail?: string;
      hint?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get fn(): string | undefined {
    return this.details.fn;
  }
}

export const SqlState = {
  connectionFailure: '08006',
  unableToConnect: '08001',
  invalidAuthorization: '28000',
  undefinedFunction: '42883',
  invalidName: '42602',
  invalidParameter: '22023',
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  insufficientPrivilege: '42501',
  queryCanceled: '57014',
  noDataFound: 'P0002',
  objectNotInPrerequisiteState: '55000',
  raiseException: 'P0001',
  /** Raised by private.usage_require: a plan's monthly limit is reached (detail: when it resets). */
  planLimitReached: 'OMUSE',
} as const;

/**
 * True when the failure says the backend could not be reached or was lost (SQLSTATE class 08, an
 * admin shutdown 57P0x, or too many connections 53300) rather than that the SQL was wrong. The
 * fallback resolver switches backends on these only.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof DbError)) return false;
  return error.code.startsWith('08') || /^57P0[1-3]$/.test(error.code) || error.code === '53300';
}

/**
 * True for failures that say "not now" rather than "never": serialization failure or deadlock
 * (class 40), lock not available (55P03). Trying the same call again can succeed.
 */
export function isTransientError(error: unknown): boolean {
  return error instanceof DbError && (error.code.startsWith('40') || error.code === '55P03');
}

const FUNCTION_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Function names are interpolated into SQL / URLs, so only plain lower-case identifiers are accepted. */
export function assertFunctionName(fn: string): void {
  if (!FUNCTION_NAME.test(fn)) {
    throw new DbError(SqlState.invalidName, `[omniops] [db] invalid function name ${JSON.stringify(fn)}`, { fn });
  }
}

interface PgLikeError {
  code?: unknown;
  message?: unknown;
  detail?: unknown;
  hint?: unknown;
}

/** Driver / socket codes meaning "could not reach the server" (08001) or "lost the connection" (08006). */
const UNABLE_TO_CONNECT = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'CONNECT_TIMEOUT']);
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED']);

function sqlStateOf(rawCode: string): string {
  if (/^[0-9A-Z]{5}$/.test(rawCode)) return rawCode;
  if (UNABLE_TO_CONNECT.has(rawCode)) return SqlState.unableToConnect;
  if (CONNECTION_LOST.has(rawCode)) return SqlState.connectionFailure;
  return 'XX000';
}

/** Normalise an error thrown by the `postgres` driver or PGlite (both expose `code`/`detail`/`hint`). */
export function fromDriverError(error: unknown, fn?: string): DbError {
  if (error instanceof DbError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as PgLikeError;
  const rawCode = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  return new DbError(sqlStateOf(rawCode), message, {
    fn,
    detail: typeof e.detail === 'string' ? e.detail : undefined,
    hint: typeof e.hint === 'string' ? e.hint : undefined,
    cause: error,
  });
}

/**
 * For errors escaping a transaction callback: errors of the caller's own code (no `code` property)
 * pass through unchanged; driver and connection errors become `DbError`.
 */
export function fromTransactionError(error: unknown): unknown {
  const isDriverError = typeof error === 'object' && error !== null && typeof (error as PgLikeError).code === 'string';
  return isDriverError ? fromDriverError(error) : error;
}
