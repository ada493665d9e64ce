/**
 * Upstash Redis over REST (`UPSTASH_REDIS_REST_URL` / `_TOKEN`), the ephemeral tier on Vercel, with
 * the official `@upstash/redis` client. Single commands go to `/`, batches to `/multi-exec`.
 */
import { errors, Redis } from '@upstash/redis';
import { fromErrorReply, unavailable } from './errors';
import { RemoteStore, type CommandRunner, type RedisCommand } from './remote';

export interface UpstashStoreOptions {
  /** Prepended to every key. @default '' */
  keyPrefix?: string;
  /** Abort each HTTP request after this long, so a hung request does not hold a socket. @default 2000 */
  requestTimeoutMs?: number;
}

/** The methods that `Redis` (one request each) and its `multi()` pipeline have in common. */
interface CommandTarget {
  get(key: string): unknown;
  set(key: string, value: string, options: { px: number } | { px: number; nx: true }): unknown;
  del(key: string): unknown;
  incr(key: string): unknown;
  incrby(key: string, by: number): unknown;
  pttl(key: string): unknown;
  pexpire(key: string, ms: number): unknown;
  rpush(key: string, ...values: string[]): unknown;
  lrange(key: string, start: number, stop: number): unknown;
  ping(): unknown;
}

function send(target: CommandTarget, command: RedisCommand): unknown {
  switch (command[0]) {
    case 'GET':
      return target.get(command[1]);
    case 'SET':
      return target.set(command[1], command[2], command.length === 6 ? { px: command[4], nx: true } : { px: command[4] });
    case 'DEL':
      return target.del(command[1]);
    case 'INCR':
      return target.incr(command[1]);
    case 'INCRBY':
      return target.incrby(command[1], command[2]);
    case 'PTTL':
      return target.pttl(command[1]);
    case 'PEXPIRE':
      return target.pexpire(command[1], command[2]);
    case 'RPUSH': {
      const [, key, ...values] = command;
      return target.rpush(key, ...values);
    }
    case 'LRANGE':
      return target.lrange(command[1], command[2], command[3]);
    case 'PING':
      return target.ping();
  }
}

/**
 * The client reports a refused command as `ERR …, command was: [...]` (single) or
 * `Command 2 [ INCR ] failed: ERR …` (pipeline). Keep the server's reply and drop the echoed command,
 * which carries cached values into logs.
 */
function toCacheError(error: unknown) {
  if (!(error instanceof errors.UpstashError)) return unavailable('upstash', error);
  const reply = error.message.replace(/^Command \d+ \[ \w+ \] failed: /, '').replace(/, command was: [\s\S]*$/, '');
  return fromErrorReply('upstash', reply, error);
}

export function createUpstashStore(
  credentials: { url: string; token: string },
  options: UpstashStoreOptions = {},
): RemoteStore {
  const timeoutMs = options.requestTimeoutMs ?? 2000;
  const redis = new Redis({
    url: credentials.url,
    token: credentials.token,
    // Values are strings in and out; the client's JSON (de)serialisation would turn '42' into 42.
    automaticDeserialization: false,
    enableTelemetry: false,
    // Batching is explicit (`batch`, one /multi-exec request). Auto-pipelining would also merge
    // unrelated concurrent calls into one /pipeline request, so one caller's failure or slowness
    // would become another's.
    enableAutoPipelining: false,
    // The client's own retries (up to 5, backing off 50 ms·eⁿ) would blow any latency budget; the
    // fallback wrapper decides what happens after a failure.
    retry: { retries: 0 },
    // A function, not a signal: a fresh deadline per request. (An aborted plain signal makes the
    // client resolve with the abort reason as the result instead of failing.)
    signal: () => AbortSignal.timeout(timeoutMs),
  });

  const runner: CommandRunner = {
    async exec(commands, atomic) {
      try {
        if (commands.length === 1 && !atomic) return [await send(redis, commands[0]!)];
        const multi = redis.multi();
        for (const command of commands) send(multi, command);
        return await multi.exec();
      } catch (error) {
        throw toCacheError(error);
      }
    },
    // Stateless HTTP: nothing to release.
    close: async () => {},
  };
  return new RemoteStore('upstash', runner, options.keyPrefix);
}
