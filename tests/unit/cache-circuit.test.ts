/**
 * The cache's circuit breaker (lib/cache/fallback.ts) with a remote the test switches off and on
 * and a clock it moves: how many failures open the circuit, when it probes, what closing it does.
 * tests/integration/cache-fallback.test.ts does the same with a real Redis behind a proxy; this
 * one pins the thresholds and timings exactly.
 */
import { describe, expect, it } from 'vitest';
import { CacheError } from '@/lib/cache/errors';
import { FallbackCache } from '@/lib/cache/fallback';
import { MemoryStore } from '@/lib/cache/memory';
import type { CacheStore } from '@/lib/cache/types';
import type { Logger } from '@/lib/log';

interface SwitchableRemote extends CacheStore {
  down: boolean;
  pings: number;
  closed: boolean;
}

/** A "redis" backed by memory, that answers `unavailable` (as a lost connection does) while down. */
function switchableRemote() {
  const backing = new MemoryStore();
  const remote = Object.create(backing, { kind: { value: 'redis' } }) as SwitchableRemote;
  Object.assign(remote, { down: false, pings: 0, closed: false });
  const refuse = () => Promise.reject(new CacheError('unavailable', 'connection refused'));
  remote.batch = ((ops) => (remote.down ? refuse() : backing.batch(ops))) as CacheStore['batch'];
  remote.ping = () => {
    remote.pings++;
    return remote.down ? refuse() : backing.ping();
  };
  remote.close = async () => {
    remote.closed = true;
  };
  return remote;
}

function setup(failureThreshold = 3) {
  const remote = switchableRemote();
  const clock = { t: 1_000_000 };
  const logged: { level: string; message: string; fields?: unknown }[] = [];
  const logger = {
    info: (message: string, fields?: unknown) => logged.push({ level: 'info', message, fields }),
    warn: (message: string, fields?: unknown) => logged.push({ level: 'warn', message, fields }),
    error: (message: string, fields?: unknown) => logged.push({ level: 'error', message, fields }),
  } as unknown as Logger;
  const memory = new MemoryStore();
  const cache = new FallbackCache(remote, memory, { failureThreshold, probeIntervalMs: 10_000, timeoutMs: 200, now: () => clock.t, logger });
  return { remote, clock, cache, memory, logged };
}

describe('cache circuit breaker', () => {
  it('opens after exactly failureThreshold failures in a row, serving each failed call from memory', async () => {
    const { remote, cache, logged } = setup(3);
    expect(cache.kind).toBe('redis');
    remote.down = true;
    await cache.set('k', 'v', 60_000); // failure 1, served by memory
    await cache.get('k'); // failure 2
    expect(cache.state().degraded).toBe(false);
    expect(await cache.get('k')).toBe('v'); // failure 3: the circuit opens
    expect(cache.state()).toMatchObject({ kind: 'redis', degraded: true, since: new Date(1_000_000).toISOString() });
    expect(logged).toEqual([
      {
        level: 'warn',
        message: 'redis unavailable: serving from memory (per-process) and probing every 10 s',
        fields: { consecutiveFailures: 3, error: 'connection refused' },
      },
    ]);
  });

  it('a success in between resets the count', async () => {
    const { remote, cache } = setup(2);
    remote.down = true;
    await cache.get('a');
    remote.down = false;
    await cache.get('a');
    remote.down = true;
    await cache.get('a');
    expect(cache.state().degraded).toBe(false);
  });

  it('while open: no call reaches the remote, a probe goes out once per interval, and an answer closes the circuit', async () => {
    const { remote, cache, clock, memory, logged } = setup(1);
    remote.down = true;
    await cache.set('k', 'outage value', 60_000); // opens
    expect(cache.state().degraded).toBe(true);
    const pingsAtOpen = remote.pings;
    clock.t += 9_999;
    expect(await cache.get('k')).toBe('outage value');
    expect(remote.pings).toBe(pingsAtOpen); // not yet: the interval has not passed
    clock.t += 1;
    await cache.get('k');
    await new Promise((r) => setTimeout(r, 0));
    expect(remote.pings).toBe(pingsAtOpen + 1); // due: one probe, which fails
    await cache.get('k');
    await new Promise((r) => setTimeout(r, 0));
    expect(remote.pings).toBe(pingsAtOpen + 1); // the next one is an interval later
    expect(cache.state().degraded).toBe(true);

    remote.down = false;
    clock.t += 2_500;
    expect(await cache.probe()).toBe(true);
    expect(cache.state()).toMatchObject({ degraded: false, since: new Date(clock.t).toISOString() });
    expect(logged.at(-1)).toMatchObject({ level: 'info', message: 'redis is back after 12.5 s: serving from it again' });
    // The outage's values are dropped (they would resurface in the next outage); the remote serves.
    expect(await memory.get('k')).toBeNull();
    expect(await cache.get('k')).toBeNull();
    await cache.ping();
  });

  it('a probe while the remote is up reports true and changes nothing; without a remote there is nothing to probe', async () => {
    const { cache } = setup();
    expect(await cache.probe()).toBe(true);
    expect(cache.state().degraded).toBe(false);
    const memoryOnly = new FallbackCache(undefined, new MemoryStore());
    expect(memoryOnly.kind).toBe('memory');
    expect(await memoryOnly.probe()).toBe(false);
    await memoryOnly.set('x', '1', 1000);
    expect(await memoryOnly.get('x')).toBe('1');
  });

  it('a call the remote does not answer within timeoutMs counts as a failure', async () => {
    const { remote, cache } = setup(1);
    remote.batch = (() => new Promise(() => {})) as CacheStore['batch'];
    const started = Date.now();
    await cache.set('slow', 'v', 1000);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(cache.state().degraded).toBe(true);
  });

  it('closes the remote and the memory store', async () => {
    const { remote, cache } = setup();
    await cache.close();
    expect(remote.closed).toBe(true);
  });
});
