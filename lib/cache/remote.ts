/**
 * What the two Redis adapters share: each cache operation as Redis commands, and its result decoded
 * from their replies. An adapter only supplies a `CommandRunner` that sends commands its own way
 * (TCP with node-redis, REST with @upstash/redis).
 */
import { BatchStore } from './batch-store';
import type { CacheKind, CacheOp, Counter } from './types';

/** The Redis commands the cache uses; adapters map each one onto their client. */
export type RedisCommand =
  | readonly ['GET', string]
  | readonly ['SET', string, string, 'PX', number]
  | readonly ['SET', string, string, 'PX', number, 'NX']
  | readonly ['DEL', string]
  | readonly ['INCR', string]
  | readonly ['INCRBY', string, number]
  | readonly ['PTTL', string]
  | readonly ['PEXPIRE', string, number]
  | readonly ['RPUSH', string, ...string[]]
  | readonly ['LRANGE', string, number, number]
  | readonly ['PING'];

export interface CommandRunner {
  /**
   * Send `commands` in one round trip and resolve to one reply per command (RESP2 shapes: strings,
   * integers as numbers, arrays, null). `atomic` asks for MULTI/EXEC. Rejects with `CacheError`.
   */
  exec(commands: readonly RedisCommand[], atomic: boolean): Promise<unknown[]>;
  close(): Promise<void>;
}

interface Compiled {
  commands: RedisCommand[];
  decode(replies: unknown[]): unknown;
}

function compile(op: CacheOp, k: string): Compiled {
  switch (op.op) {
    case 'get':
      return { commands: [['GET', k]], decode: ([v]) => v ?? null };
    case 'set':
      return { commands: [['SET', k, op.value, 'PX', op.ttlMs]], decode: () => undefined };
    case 'delete':
      return { commands: [['DEL', k]], decode: ([n]) => Number(n) > 0 };
    case 'increment':
      // SET NX creates the counter at 0 with its TTL; INCR keeps an existing TTL. Inside MULTI this
      // is atomic and works on every Redis version (unlike EXPIRE … NX, Redis ≥ 7), so a counter can
      // never be left without a TTL.
      return {
        commands: [['SET', k, '0', 'PX', op.ttlMs, 'NX'], op.by === undefined || op.by === 1 ? ['INCR', k] : ['INCRBY', k, op.by], ['PTTL', k]],
        decode: ([, value, ttl]): Counter => ({ value: Number(value), ttlMs: Number(ttl) }),
      };
    case 'append':
      return {
        commands: [['RPUSH', k, ...op.values], ['PEXPIRE', k, op.ttlMs]],
        decode: ([length]) => Number(length),
      };
    case 'range':
      return { commands: [['LRANGE', k, op.start, op.stop]], decode: ([items]) => items as string[] };
  }
}

export class RemoteStore extends BatchStore {
  constructor(
    readonly kind: Exclude<CacheKind, 'memory'>,
    private readonly runner: CommandRunner,
    /** Namespace prepended to every key (e.g. `omniops:` on a shared Redis, a unique prefix per test file). */
    private readonly keyPrefix = '',
  ) {
    super();
  }

  protected async run(ops: readonly CacheOp[]): Promise<unknown[]> {
    const compiled = ops.map((op) => compile(op, this.keyPrefix + op.key));
    const commands = compiled.flatMap((c) => c.commands);
    // A lone command needs no transaction: one GET/SET/LRANGE skips MULTI/EXEC.
    const replies = await this.runner.exec(commands, commands.length > 1);
    let offset = 0;
    return compiled.map((c) => {
      const own = replies.slice(offset, offset + c.commands.length);
      offset += c.commands.length;
      return c.decode(own);
    });
  }

  async ping(): Promise<void> {
    await this.runner.exec([['PING']], false);
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
