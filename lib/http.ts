/**
 * Shared pieces of route handlers: bounded JSON bodies, zod parsing with messages that name the
 * field, and one mapping from failures to HTTP responses.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { z } from 'zod';
import { chargeRateLimits, type Charge, type RateLimitResult } from '@/lib/cache/rate-limit';
import type { CacheStore } from '@/lib/cache/types';
import { getConfig } from '@/lib/config';
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

/** Where the client's address comes from: lib/config.ts `clientAddress`. */
export interface ClientAddressOptions {
  /** Proxies in front of the server whose `X-Forwarded-For` entries are trusted, from the right. */
  trustProxyHops: number;
  /** On Vercel: its edge sets `X-Vercel-Forwarded-For` / `X-Real-IP` and drops what clients sent. */
  vercel: boolean;
}

/** An address as a rate-limit key: IPv4-mapped IPv6 as plain IPv4, anything unparseable as 'unknown'. */
function normalizeAddress(value: string | undefined): string {
  const address = value?.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '') ?? '';
  return isIP(address) ? address.toLowerCase() : 'unknown';
}

/**
 * The `X-Forwarded-For` the app sees, as scripts/serve.ts sets it on every request: what the client
 * (or a proxy in front) sent, then the address of the socket the request came in on — the one entry
 * nobody on the network can choose. Proxies append the same way (nginx `$proxy_add_x_forwarded_for`).
 */
export function forwardedFor(received: string | string[] | undefined, socketAddress: string | undefined): string {
  const before = (Array.isArray(received) ? received.join(', ') : (received ?? '')).trim();
  const socket = socketAddress ?? 'unknown';
  return before ? `${before}, ${socket}` : socket;
}

/**
 * A Node request listener that hands requests on with `X-Forwarded-For` ending in the socket
 * address (scripts/serve.ts wraps Next's handler in it): Next's route handlers never see the socket.
 */
export function withSocketAddress<Res>(handle: (req: IncomingMessage, res: Res) => unknown): (req: IncomingMessage, res: Res) => void {
  return (req, res) => {
    req.headers['x-forwarded-for'] = forwardedFor(req.headers['x-forwarded-for'], req.socket.remoteAddress);
    void handle(req, res);
  };
}

/**
 * The client's address, for per-address limits (widget, sign-in). Only what cannot be forged:
 *  - on Vercel, the edge's own `X-Vercel-Forwarded-For` (else `X-Real-IP`), which it overwrites;
 *  - elsewhere, counting `trustProxyHops` entries from the right of `X-Forwarded-For`, whose last
 *    entry is the socket address (scripts/serve.ts, `forwardedFor`). With 0 hops that last entry is
 *    the answer whatever the client put before it; with n, the address the n-th proxy saw. A list
 *    shorter than that (a request that did not pass every proxy) answers its first entry.
 * 'unknown' when there is nothing usable (`next dev`, tests that send no header).
 */
export function clientIp(request: Request, options: ClientAddressOptions = getConfig().clientAddress): string {
  if (options.vercel) {
    const vercel = request.headers.get('x-vercel-forwarded-for') ?? request.headers.get('x-real-ip');
    return normalizeAddress(vercel?.split(',')[0]);
  }
  const hops = (request.headers.get('x-forwarded-for') ?? '').split(',').filter((entry) => entry.trim() !== '');
  if (hops.length === 0) return 'unknown';
  return normalizeAddress(hops[Math.max(0, hops.length - 1 - options.trustProxyHops)]);
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

/** The largest body an admin API reads (a customer's settings, a reply, a list of ids: well under it). */
export const MAX_ADMIN_BODY_BYTES = 64 * 1024;

const tooLarge = (maxBytes: number) => new HttpError(413, 'body_too_large', `body: at most ${maxBytes} bytes`);

/**
 * The body as UTF-8 text, at most `maxBytes` (413 beyond): a declared Content-Length over the limit
 * is refused before reading, a stream without one is cancelled as soon as it passes the limit.
 */
export async function readText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    size += chunk.value.byteLength;
    if (size > maxBytes) {
      await reader?.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(chunk.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Read a JSON body of at most `maxBytes` (413 beyond, 400 when it is not JSON). */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  const text = await readText(request, maxBytes);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'body: not valid JSON');
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The media type of a Content-Type header, lower case, without parameters ('' when absent). */
function mediaType(request: Request): string {
  return (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * The CSRF check of cookie-authenticated mutations (every admin API: the envelope of
 * lib/auth/route.ts `staffRoute`): a browser attaches the session cookie to requests other sites make, so a
 * request that changes state must come from a page of this origin —
 * `Sec-Fetch-Site: same-origin` (or `none`, typed by the user) where the browser sends it (it
 * cannot be forged by a page), else an `Origin` equal to the origin the client addressed — 403
 * otherwise, including a sibling subdomain (same-site, which SameSite=Lax lets through) and a
 * request with neither header. Its body must be declared JSON (415 otherwise): an HTML form cannot
 * send that type, and a script on another origin cannot either without a CORS preflight, which
 * this app never answers. A declared body over `maxBytes` is 413 before anything is read.
 * Safe methods (GET, HEAD) pass: they change nothing.
 */
export function requireSameOriginJson(request: Request, maxBytes = MAX_ADMIN_BODY_BYTES): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers.get('sec-fetch-site');
  const origin = request.headers.get('origin');
  const sameOrigin = site !== null ? site === 'same-origin' || site === 'none' : origin !== null && origin === requestOrigin(request.headers, request.url);
  if (!sameOrigin) {
    throw new HttpError(403, 'cross_origin', 'cross-origin request refused: send it from the dashboard (same origin)');
  }
  if (mediaType(request) !== 'application/json') {
    throw new HttpError(415, 'unsupported_media_type', 'content-type: must be application/json');
  }
  if (Number(request.headers.get('content-length') ?? NaN) > maxBytes) throw tooLarge(maxBytes);
}

/** Parse `value` with `schema`, or throw a 400 naming the first offending field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.');
  throw new HttpError(400, 'invalid_request', field ? `${field}: ${issue.message}` : issue.message);
}

/** `RateLimit-*` headers (IETF draft names) describing a rate-limit result. */
export function rateLimitHeaders(result: RateLimitResult, now: number = Date.now()): Record<string, string> {
  return {
    'RateLimit-Limit': String(result.limit),
    'RateLimit-Remaining': String(result.remaining),
    'RateLimit-Reset': String(Math.max(0, Math.ceil((result.resetAt - now) / 1000))),
  };
}

/**
 * A rate-limit refusal as an HttpError (429, `Retry-After` in whole seconds, at least 1), which
 * errorResponse turns into the API's usual `{ error: { code, message } }` answer.
 */
export function tooManyRequests(result: RateLimitResult, now: number = Date.now()): HttpError {
  const retryAfter = Math.max(1, Math.ceil((result.resetAt - now) / 1000));
  return new HttpError(429, 'rate_limited', `rate limit exceeded: retry in ${retryAfter} s`, {
    ...rateLimitHeaders(result, now),
    'Retry-After': String(retryAfter),
  });
}

/**
 * For route handlers: charge every rule (lib/cache/rate-limit.ts chargeRateLimits) and, if a (hard)
 * rule refuses, throw the 429 for the refusal that lasts longest. Resolves to the results, in the
 * rules' order (a soft rule's `allowed` says whether its budget covered the charge).
 */
export async function enforceRateLimits(
  cache: CacheStore,
  rules: readonly Charge[],
  now: () => number = Date.now,
): Promise<RateLimitResult[]> {
  const { results, refused } = await chargeRateLimits(cache, rules, now);
  if (refused) throw tooManyRequests(refused, now());
  return results;
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