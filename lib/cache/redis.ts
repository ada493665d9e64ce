/**
 * Redis over TCP (`REDIS_URL`) with node-redis, Redis Inc.'s official client: promise-native, typed,
 * MULTI/EXEC and pipelining, automatic reconnection. RESP2 on purpose: node-redis 6 defaults to RESP3,
 * whose reply shapes differ, and the Upstash REST API answers in RESP2 shapes.
 */
import { createClient, ErrorReply, MultiErrorReply } from 'redis';
import { CacheError, fromErrorReply, unavailable } from './errors';
import { RemoteStore, type CommandRunner } from './remote';

export interface RedisStoreOptions {
  /** Prepended to every key. @default '' */
  keyPrefix?: string;
  /** TCP connect timeout, and how long a command waits for a connection in progress. @default 2000 */
  connectTimeoutMs?: number;
}

function toCacheError(error: unknown): CacheError {
  if (error instanceof MultiErrorReply) {
    const first = error.errorIndexes[0];
    const reply = first === undefined ? undefined : error.replies[first];
    return fromErrorReply('redis', reply instanceof Error ? reply.message : error.message, error);
  }
  if (error instanceof ErrorReply) return fromErrorReply('redis', error.message, error);
  return unavailable('redis', error);
}

export function createRedisStore(url: string, options: RedisStoreOptions = {}): RemoteStore {
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const client = createClient({
    url,
    RESP: 2,
    // node-redis's offline queue would hold commands until Redis came back, with no deadline for
    // MULTI; instead a command waits for the connection at most connectTimeoutMs (whenReady), then
    // fails.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: connectTimeoutMs,
      // Keep reconnecting in the background, backing off to one attempt every 2 s.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
  // node-redis emits 'error' on every failed (re)connection; an EventEmitter without a listener
  // would crash the process. Outages are reported once per transition by the fallback wrapper.
  client.on('error', () => {});
  // connect() settles only once a connection succeeds (or the client is destroyed), retrying per
  // reconnectStrategy meanwhile; commands fail fast until then, so nothing waits for it.
  client.connect().catch(() => {});

  // One shared wait per disconnected period (not one 'ready' listener per command).
  let waiting: Promise<void> | undefined;
  const whenReady = (): Promise<void> => {
    if (client.isReady) return Promise.resolve();
    waiting ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        waiting = undefined;
        resolve();
      };
      const timer = setTimeout(done, connectTimeoutMs);
      client.on('ready', done);
    });
    return waiting;
  };

  const runner: CommandRunner = {
    async exec(commands, atomic) {
      const args = commands.map((command) => command.map(String));
      try {
        await whenReady();
        if (args.length === 1 && !atomic) return [await client.sendCommand(args[0]!)];
        const multi = client.multi();
        for (const command of args) multi.addCommand(command);
        return (atomic ? await multi.exec() : await multi.execAsPipeline()) as unknown[];
      } catch (error) {
        throw toCacheError(error);
      }
    },
    async close() {
      // close() waits for replies in flight; a client that is not connected has none to wait for.
      if (client.isReady) await client.close();
      else client.destroy();
    },
  };
  return new RemoteStore('redis', runner, options.keyPrefix);
}
