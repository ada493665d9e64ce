/**
 * A small server speaking the Upstash Redis REST protocol onto a real Redis over TCP, so the real
 * `@upstash/redis` client code runs in tests and local development (`npm run upstash-bridge`).
 *
 *   POST /            body ["SET","k","v","PX","1000"]         → 200 {"result": …} | 400 {"error":"ERR …"}
 *   POST /pipeline    body [["GET","a"],["INCR","b"]]           → 200 [{"result": …} | {"error": "…"}, …]
 *   POST /multi-exec  same body, run as MULTI/EXEC (atomic)     → 200 [{"result": …} | {"error": "…"}, …]
 *
 * As Upstash does: `Authorization: Bearer <token>` is required (401 otherwise); with the request
 * header `Upstash-Encoding: base64` every string in a result — inside arrays too — is base64-encoded
 * except a top-level "OK", while integers and null stay as they are. Redis being unreachable
 * is a 503 whose message is not a Redis error reply.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, ErrorReply, MultiErrorReply } from 'redis';
import { readBody } from './http';

export interface UpstashBridge {
  /** Give this to `new Redis({ url, token })` / UPSTASH_REDIS_REST_URL. */
  url: string;
  token: string;
  close(): Promise<void>;
}

export interface UpstashBridgeOptions {
  redisUrl: string;
  /** @default a random token */
  token?: string;
  /** @default a free port */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
}

type Reply = string | number | null | Reply[];
type Item = { result: unknown } | { error: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The client keeps a top-level "OK" as is and base64-decodes every other string, and every string
 * inside an array without exception — so a list item "OK" must be encoded like any other.
 */
function encode(value: Reply, base64: boolean, topLevel = true): unknown {
  if (Array.isArray(value)) return value.map((v) => encode(v, base64, false));
  if (typeof value === 'string' && base64 && !(topLevel && value === 'OK')) return Buffer.from(value, 'utf8').toString('base64');
  return value;
}

function parseCommands(body: string, nested: boolean): string[][] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'ERR failed to parse the request body as JSON');
  }
  const isCommand = (c: unknown): c is unknown[] => Array.isArray(c) && c.length > 0;
  const commands = nested ? parsed : [parsed];
  if (!Array.isArray(commands) || commands.length === 0 || !commands.every(isCommand)) {
    throw new HttpError(400, nested ? 'ERR expected an array of commands' : 'ERR expected a command array');
  }
  // The client sends numbers and booleans as JSON scalars; Redis takes every argument as a string.
  return commands.map((c: unknown[]) => c.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))));
}

export async function startUpstashBridge(options: UpstashBridgeOptions): Promise<UpstashBridge> {
  const token = options.token ?? crypto.randomBytes(16).toString('hex');
  const redis = createClient({
    url: options.redisUrl,
    RESP: 2,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) },
  });
  redis.on('error', () => {}); // an unreachable Redis is answered per request (503)
  await redis.connect();

  const asItem = (error: unknown, base64: boolean, result?: unknown): Item => {
    if (error === undefined) return { result: encode(result as Reply, base64) };
    if (error instanceof ErrorReply) return { error: error.message };
    throw new HttpError(503, `bridge: redis unavailable: ${(error as Error).message}`);
  };

  async function single(command: string[], base64: boolean): Promise<Item> {
    try {
      return asItem(undefined, base64, await redis.sendCommand(command));
    } catch (error) {
      const item = asItem(error, base64);
      throw new HttpError(400, 'error' in item ? item.error : 'ERR');
    }
  }

  async function pipeline(commands: string[][], base64: boolean): Promise<Item[]> {
    // Sent together, node-redis writes them in one go: a pipeline, answered item by item.
    const settled = await Promise.allSettled(commands.map((c) => redis.sendCommand(c)));
    return settled.map((s) => (s.status === 'fulfilled' ? asItem(undefined, base64, s.value) : asItem(s.reason, base64)));
  }

  async function transaction(commands: string[][], base64: boolean): Promise<Item[]> {
    const multi = redis.multi();
    for (const command of commands) multi.addCommand(command);
    try {
      const replies = (await multi.exec()) as unknown[];
      return replies.map((reply) => asItem(undefined, base64, reply));
    } catch (error) {
      if (!(error instanceof MultiErrorReply)) {
        // EXECABORT (a command refused while queueing) fails the whole transaction.
        const item = asItem(error, base64);
        throw new HttpError(400, 'error' in item ? item.error : 'ERR');
      }
      const failed = new Set(error.errorIndexes);
      return (error.replies as unknown[]).map((reply, i) =>
        failed.has(i) ? { error: (reply as Error).message } : asItem(undefined, base64, reply),
      );
    }
  }

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const handle = async (): Promise<unknown> => {
      if (req.headers.authorization !== `Bearer ${token}`) throw new HttpError(401, 'Unauthorized');
      if (req.method !== 'POST') throw new HttpError(405, 'ERR only POST is supported by this bridge');
      const base64 = req.headers['upstash-encoding'] === 'base64';
      const path = (req.url ?? '/').split('?')[0];
      const body = await readBody(req);
      if (path === '/' || path === '') return single(parseCommands(body, false)[0]!, base64);
      if (path === '/pipeline') return pipeline(parseCommands(body, true), base64);
      if (path === '/multi-exec') return transaction(parseCommands(body, true), base64);
      throw new HttpError(404, `ERR unknown path ${path}`);
    };
    handle().then(
      (body) => send(200, body),
      (error: unknown) => {
        if (error instanceof HttpError) send(error.status, { error: error.message });
        else send(500, { error: `bridge: ${(error as Error).message}` });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.destroy();
    },
  };
}
