/**
 * Shared pieces of route handlers: bounded JSON bodies, zod parsing with messages that name the
 * field, and one mapping from failures to HTTP responses.
 */
import { z } from 'zod';
import { DbError, SqlState, isConnectionError } from '@/lib/db/errors';
import { createLogger } from '@/lib/log';

const log = createLogger('http');

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The client's address as the nearest proxy reports it: the first hop of `X-Forwarded-For` (Vercel
 * and Next.js's own server set it), else `X-Real-IP`, else 'unknown'. Behind a proxy that passes
 * client-supplied values through, it can be forged — limits keyed on it are a second line, after
 * the per-session ones.
 */
export function clientIp(request: Request): string {
  const forwarded = request.headers.get('x-forwarded-for')?.split(',')[0]?.trim();
  return forwarded || request.headers.get('x-real-ip')?.trim() || 'unknown';
}

/**
 * The origin the client addressed (`https://chat.example.com`, `http://127.0.0.1:3000`): from
 * `X-Forwarded-Host`/`-Proto` (set by Vercel and reverse proxies), else `Host`, else `fallback`.
 * Not `request.url`: under `next start` it names the host the server was started with (localhost),
 * whatever the client used.
 */
export function requestOrigin(headers: Headers, fallback: string): string {
  const first = (name: string) => headers.get(name)?.split(',')[0]?.trim() || undefined;
  const host = first('x-forwarded-host') ?? first('host');
  if (!host) return new URL(fallback).origin;
  const proto = first('x-forwarded-proto') ?? new URL(fallback).protocol.replace(/:$/, '');
  return `${proto}://${host}`;
}

/** Read a JSON body of at most `maxBytes` (413 beyond, 400 when it is not JSON). */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new HttpError(413, 'body_too_large', `body: at most ${maxBytes} bytes`);
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      await reader?.cancel();
      throw new HttpError(413, 'body_too_large', `body: at most ${maxBytes} bytes`);
    }
    chunks.push(chunk.value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'body: not valid JSON');
  }
}

/** Parse `value` with `schema`, or throw a 400 naming the first offending field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw new HttpError(400, 'invalid_request', field ? `${field}: ${issue.message}` : issue.message);
}

/**
 * The response for a failure: HttpError as itself; a plan's monthly limit as 429 until it resets;
 * bad arguments or unstorable text caught by the database as 400; a row the call names that does not exist (P0002)
 * as 404; a write the row's state refuses (55000: a finished job) or a key taken by another
 * tenant (23505) as 409;
 * an unreachable database as 503 with Retry-After (clients keep the request and retry); anything
 * else as 500, logged with its cause and never shown to the client.
 */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  if (error instanceof HttpError) {
    return Response.json(
      { error: { code: error.code, message: error.message } },
      { status: error.status, headers: { ...headers, ...error.headers } },
    );
  }
  if (error instanceof DbError && error.code === SqlState.planLimitReached) {
    // Retry-After points at the month's reset, so well-behaved clients (the widget's outbox) keep
    // the request and send it again then.
    const resetsAt = Date.parse(error.details.detail ?? '');
    const retryAfter = Number.isNaN(resetsAt) ? 3600 : Math.max(1, Math.ceil((resetsAt - Date.now()) / 1000));
    return Response.json(
      { error: { code: 'plan_limit_reached', message: error.message } },
      { status: 429, headers: { ...headers, 'retry-after': String(retryAfter) } },
    );
  }
  // 22021 / 22P05: text the database cannot store (a NUL character, an unpaired surrogate).
  if (error instanceof DbError && ['22023', '22P02', '22021', '22P05'].includes(error.code)) {
    return Response.json({ error: { code: 'invalid_request', message: error.message } }, { status: 400, headers });
  }
  if (error instanceof DbError && error.code === SqlState.noDataFound) {
    return Response.json({ error: { code: 'not_found', message: error.message } }, { status: 404, headers });
  }
  if (error instanceof DbError && (error.code === SqlState.objectNotInPrerequisiteState || error.code === SqlState.uniqueViolation)) {
    return Response.json({ error: { code: 'conflict', message: error.message } }, { status: 409, headers });
  }
  if (isConnectionError(error)) {
    log.warn(`database unavailable: ${(error as Error).message}`);
    return Response.json(
      { error: { code: 'unavailable', message: 'temporarily unavailable, retry shortly' } },
      { status: 503, headers: { ...headers, 'retry-after': '5' } },
    );
  }
  log.error(`unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return Response.json({ error: { code: 'internal', message: 'internal error' } }, { status: 500, headers });
}
