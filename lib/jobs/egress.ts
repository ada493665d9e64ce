/**
 * The crawler's outbound requests, guarded against SSRF (docs/security.md, "The crawler"): a staff
 * member names the URL, the server fetches it, so every hop must go where a public website is.
 *
 * - Only http(s), only ports 80 and 443 (CRAWL_ALLOWED_PORTS), hosts of at most 253 characters.
 * - The host is resolved once per connection and every address it resolves to must be public
 *   unicast: loopback, private, link-local (the cloud metadata service), CGNAT, multicast,
 *   unspecified, broadcast, reserved and documentation ranges are refused, and so are IPv6 forms
 *   that embed such an IPv4 address (IPv4-mapped and -compatible, NAT64, 6to4) or hide one
 *   (Teredo). IP literals in any spelling the URL parser accepts (decimal, octal, hex) reach the
 *   check as the address they mean.
 * - The socket connects to the address that was checked: the check runs inside the connection's
 *   own `lookup`, so no second DNS answer (DNS rebinding) is ever used.
 * - Redirects are followed by hand (bounded), each hop checked like the first.
 * - Bodies are read as streams and cut off past `maxBytes`; `signal` bounds the whole exchange.
 *
 * CRAWL_ALLOW_PRIVATE_HOSTS (development and tests) names hosts exempt from the address and port
 * rules: a host name (`localhost`: whatever it resolves to), an address or a CIDR range.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction as NetLookup } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import ipaddr from 'ipaddr.js';
import type { Config } from '@/lib/config';
import { createLogger } from '@/lib/log';

const log = createLogger('crawler');

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a host name to all its addresses (the default: the system resolver, `dns.lookup`). */
export type LookupFunction = (hostname: string) => Promise<ResolvedAddress[]>;

export interface EgressPolicy {
  /** Hosts, addresses or CIDR ranges exempt from the address and port rules. @default [] */
  allowPrivateHosts: readonly string[];
  /** @default [80, 443] */
  allowedPorts: readonly number[];
  /** @default the system resolver */
  lookup?: LookupFunction;
}

/** A URL the policy refuses; its message starts with `refused: `. */
export class EgressRefused extends Error {
  constructor(reason: string) {
    super(`refused: ${reason}`);
    this.name = 'EgressRefused';
  }
}

/** A body past the `maxBytes` of its request: the stream errors with this after the bytes within it. */
export class ResponseTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`response larger than ${maxBytes} bytes`);
    this.name = 'ResponseTooLarge';
  }
}

export const MAX_HOST_LENGTH = 253;
export const MAX_REDIRECTS = 5;

const systemLookup: LookupFunction = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** The policy the configuration describes; `overrides` (tests) replace parts of it. */
export function egressPolicy(config: Pick<Config, 'crawl'>, overrides: Partial<EgressPolicy> = {}): EgressPolicy {
  return { allowPrivateHosts: config.crawl.allowPrivateHosts, allowedPorts: config.crawl.allowedPorts, ...overrides };
}

let announced = false;
/** Logged once at start-up when the allow-list is set, so a production server with one is noticed. */
export function announceEgressPolicy(config: Pick<Config, 'crawl'>): void {
  if (announced || config.crawl.allowPrivateHosts.length === 0) return;
  announced = true;
  log.warn(`CRAWL_ALLOW_PRIVATE_HOSTS is set: the crawler may fetch ${config.crawl.allowPrivateHosts.join(', ')} (development and tests only)`);
}

const bareHost = (hostname: string) => hostname.replace(/^\[|\]$/g, '').toLowerCase();

function allowListed(policy: EgressPolicy, hostname: string, address?: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return policy.allowPrivateHosts.some((entry) => {
    const value = entry.trim().toLowerCase();
    if (bareHost(value) === hostname) return true;
    if (!address) return false;
    try {
      if (value.includes('/')) {
        const [range, bits] = ipaddr.parseCIDR(value);
        return range.kind() === address.kind() && address.match(range, bits);
      }
      return ipaddr.isValid(value) && ipaddr.process(value).toString() === address.toString();
    } catch {
      return false;
    }
  });
}

/** Why `address` is not a public unicast address, or null when it is. */
export function nonPublicReason(address: string): string | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  if (ip.kind() === 'ipv4') {
    const range = ip.range();
    return range === 'unicast' ? null : range;
  }
  const v6 = ip as ipaddr.IPv6;
  const parts = v6.parts;
  const embedded = (high: number, low: number) =>
    new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]).toString();
  const range = v6.range();
  // The IPv4 address inside a v6 one: v4-mapped (::ffff:a.b.c.d), v4-compatible (::a.b.c.d),
  // NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
  let inner: string | null = null;
  if (range === 'ipv4Mapped' || parts.slice(0, 6).every((p) => p === 0)) inner = embedded(parts[6]!, parts[7]!);
  else if (range === 'rfc6052' && parts[1] === 0xff9b && parts.slice(2, 6).every((p) => p === 0)) inner = embedded(parts[6]!, parts[7]!);
  else if (range === '6to4') inner = embedded(parts[1]!, parts[2]!);
  if (inner !== null) {
    if (range === 'unspecified' || range === 'loopback') return range;
    const innerReason = nonPublicReason(inner);
    return innerReason ? `${range === 'unicast' ? 'ipv4Compatible' : range} of ${innerReason} ${inner}` : null;
  }
  return range === 'unicast' ? null : range;
}

/** Scheme, port and host-length checks that need no DNS; returns the parsed URL. */
export function checkUrl(url: string | URL, policy: EgressPolicy): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new EgressRefused('not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new EgressRefused(`${parsed.protocol} URLs are not crawled`);
  const hostname = bareHost(parsed.hostname);
  if (hostname.length === 0 || hostname.length > MAX_HOST_LENGTH) throw new EgressRefused(`host must be 1 to ${MAX_HOST_LENGTH} characters`);
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (!policy.allowedPorts.includes(port) && !allowListed(policy, hostname)) throw new EgressRefused(`port ${port} is not crawled`);
  return parsed;
}

/** The host's addresses, each allowed, or EgressRefused naming the first that is not. */
export async function resolveAllowed(hostname: string, policy: EgressPolicy): Promise<ResolvedAddress[]> {
  const host = bareHost(hostname);
  const literal = ipaddr.isValid(host);
  let addresses: ResolvedAddress[];
  if (literal) addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv4' ? 4 : 6 }];
  else addresses = await (policy.lookup ?? systemLookup)(host);
  if (addresses.length === 0) throw new EgressRefused(`${host} has no address`);
  for (const { address } of addresses) {
    const reason = nonPublicReason(address);
    if (reason === null || allowListed(policy, host, ipaddr.parse(address))) continue;
    throw new EgressRefused(literal ? `${host} is a ${reason} address` : `${host} resolves to ${address} (${reason})`);
  }
  return addresses;
}

/**
 * The whole check of a URL (no connection): what job creation runs. Rejects with EgressRefused, or
 * with another error when the host could not be resolved within `timeoutMs` (the crawl checks
 * again at each connection).
 */
export async function checkCrawlable(url: string, policy: EgressPolicy, timeoutMs = 3000): Promise<void> {
  const hostname = checkUrl(url, policy).hostname;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`resolving ${hostname} took over ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([resolveAllowed(hostname, policy), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface GuardedRequestInit {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** `follow`: up to MAX_REDIRECTS hops, each checked; `manual`: a 3xx is returned as it is. @default 'follow' */
  redirect?: 'follow' | 'manual';
  signal?: AbortSignal;
  /** The body errors once it exceeds this many (decoded) bytes. @default 10 MiB */
  maxBytes?: number;
}
export type GuardedFetch = (url: string, init?: GuardedRequestInit) => Promise<Response>;

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** A `fetch` for untrusted URLs under `policy` (see the header of this file). */
export function createGuardedFetch(policy: EgressPolicy): GuardedFetch {
  return async (url, init = {}) => {
    let current = url;
    for (let hop = 0; ; hop += 1) {
      const response = await requestOnce(current, policy, init);
      const location = response.headers.get('location');
      if (init.redirect === 'manual' || response.status < 300 || response.status >= 400 || !location) return response;
      await response.body?.cancel();
      if (hop >= MAX_REDIRECTS) throw new EgressRefused(`more than ${MAX_REDIRECTS} redirects`);
      current = new URL(location, current).toString();
    }
  };
}

function requestOnce(url: string, policy: EgressPolicy, init: GuardedRequestInit): Promise<Response> {
  const target = checkUrl(url, policy);
  const maxBytes = init.maxBytes ?? 10 * 1024 * 1024;
  let refusal: EgressRefused | null = null;
  // Called by the socket itself: the addresses checked here are the ones it connects to.
  const lookup: NetLookup = (hostname, options, callback) => {
    resolveAllowed(hostname, policy).then(
      (addresses) => {
        const usable = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        if (options.all) callback(null, usable);
        else if (usable[0]) callback(null, usable[0].address, usable[0].family);
        else callback(Object.assign(new Error(`${hostname}: no address of family ${options.family}`), { code: 'ENOTFOUND' }), '', 0);
      },
      (error: Error) => {
        if (error instanceof EgressRefused) refusal = error;
        callback(error as NodeJS.ErrnoException, '', 0);
      },
    );
  };
  return new Promise<Response>((resolve, reject) => {
    // An IP literal skips `lookup` in net.connect: check it here.
    if (ipaddr.isValid(bareHost(target.hostname))) {
      try {
        const reason = nonPublicReason(bareHost(target.hostname));
        if (reason && !allowListed(policy, bareHost(target.hostname), ipaddr.parse(bareHost(target.hostname)))) {
          throw new EgressRefused(`${bareHost(target.hostname)} is a ${reason} address`);
        }
      } catch (error) {
        return reject(error);
      }
    }
    const request = (target.protocol === 'https:' ? https : http).request(
      target,
      {
        method: init.method ?? 'GET',
        headers: { 'accept-encoding': 'gzip, deflate, br', ...init.headers },
        lookup,
        signal: init.signal,
        // One connection per request: a pooled socket could outlive its host's check.
        agent: false,
      },
      (res) => {
        const headers = new Headers();
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          try {
            headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          } catch {
            // A header value fetch would refuse too (bad characters): dropped, the page still reads.
          }
        }
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 599) {
          res.destroy();
          return reject(new Error(`invalid HTTP status ${status}`));
        }
        if (NULL_BODY_STATUSES.has(status) || init.method === 'HEAD') {
          res.resume();
          return resolve(new Response(null, { status, headers }));
        }
        resolve(new Response(cappedWebStream(res, decoded(res), maxBytes), { status, headers }));
      },
    );
    request.on('error', (error) => reject(refusal ?? error));
    request.end();
  });
}

/** The body, decompressed as its Content-Encoding says (the cap applies to what comes out). */
function decoded(res: http.IncomingMessage): Readable {
  const encoding = String(res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() :
    encoding === 'deflate' ? zlib.createInflate() :
    encoding === 'br' ? zlib.createBrotliDecompress() : null;
  if (!decoder) return res;
  res.on('error', (error) => decoder.destroy(error));
  return res.pipe(decoder);
}

/**
 * `source` as a web stream that errors with ResponseTooLarge past `maxBytes`. (Readable.toWeb of
 * Node 20 throws on data that arrives after a cancel, as an uncaught error.) Cancelling or erroring
 * destroys `res`, which closes the connection.
 */
function cappedWebStream(res: http.IncomingMessage, source: Readable, maxBytes: number): ReadableStream<Uint8Array> {
  let finished = false;
  let bytes = 0;
  const stop = () => {
    finished = true;
    source.destroy();
    res.destroy();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        source.on('data', (chunk: Buffer) => {
          if (finished) return;
          bytes += chunk.byteLength;
          if (bytes > maxBytes) {
            controller.error(new ResponseTooLarge(maxBytes));
            return stop();
          }
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if ((controller.desiredSize ?? 0) <= 0) source.pause();
        });
        source.on('end', () => {
          if (finished) return;
          finished = true;
          controller.close();
        });
        source.on('error', (error) => {
          if (finished) return;
          controller.error(error);
          stop();
        });
        // The request's signal (the time limit) destroys `res`; a decoder in between must hear it.
        res.on('close', () => {
          if (finished || res.complete) return;
          controller.error(new Error('connection closed before the body ended'));
          stop();
        });
      },
      pull() {
        source.resume();
      },
      cancel() {
        stop();
      },
    },
    { highWaterMark: 8 },
  );
}
