/**
 * Next.js loads a module once per server layer, so a DbError may come from another copy of
 * lib/db/errors.ts than the code that checks it (the process-wide Db is opened by
 * instrumentation.ts, its errors are mapped by route handlers). The checks must hold across copies.
 */
import { describe, expect, it, vi } from 'vitest';
import { DbError, SqlState, isConnectionError } from '@/lib/db/errors';
import { errorResponse } from '@/lib/http';

async function otherCopy(): Promise<typeof import('@/lib/db/errors')> {
  vi.resetModules();
  const copy = await import('@/lib/db/errors');
  expect(copy.DbError).not.toBe(DbError); // really another copy of the module
  return copy;
}

describe('DbError across module copies', () => {
  it('is recognised by instanceof and isConnectionError', async () => {
    const copy = await otherCopy();
    const foreign = new copy.DbError(SqlState.unableToConnect, 'connect ECONNREFUSED');
    expect(foreign instanceof DbError).toBe(true);
    expect(isConnectionError(foreign)).toBe(true);
    expect(new Error('x') instanceof DbError).toBe(false);
    expect({ code: '08001' } instanceof DbError).toBe(false);
  });

  it('maps to the same responses: 503 with Retry-After for a lost database, 400 for bad arguments', async () => {
    const copy = await otherCopy();
    const down = errorResponse(new copy.DbError(SqlState.connectionFailure, 'connection lost'));
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(errorResponse(new copy.DbError(SqlState.invalidParameter, 'limit: must be positive')).status).toBe(400);
  });
});
