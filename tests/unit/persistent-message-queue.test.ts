import { afterEach, describe, expect, it, vi } from 'vitest';
import { MessageQueue } from '@/lib/chat-widget/storage/message-queue';
import {
  DEFAULT_BACKOFF,
  PersistentMessageQueue,
  backoffDelay,
  type LockManagerLike,
  type PersistentMessageQueueOptions,
  type QueueMessage,
  type SendOutcome,
} from '@/lib/chat-widget/storage/persistent-message-queue';
import { webStorageOutboxStore, type OutboxStore } from '@/lib/chat-widget/storage/outbox-store';
import { createSafeStorage } from '@/lib/utils/storage';
import { TestStorage } from '../support/web-storage';

const message = (n: number): QueueMessage => ({ type: 'chat', key: `m-${n}`, value: `hello ${n}`, timestamp: 1_000 + n });

/** A clock that sleeps by moving forward, recording every wait. */
function clock() {
  const c = {
    time: 1_700_000_000_000,
    sleeps: [] as number[],
    now: () => c.time,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.time += ms;
    },
  };
  return c;
}

/** Web Locks semantics in one process: one holder per name, the others wait in order. */
function lockManager(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(callback, callback);
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
}

function setup(overrides: Partial<PersistentMessageQueueOptions> = {}, backing = new TestStorage()) {
  const c = clock();
  const queue = new PersistentMessageQueue({
    enablePersistence: true,
    customerId: 'cust',
    sessionId: 'sess',
    store: webStorageOutboxStore(createSafeStorage('local', () => backing)),
    locks: lockManager(),
    isOnline: () => true,
    now: c.now,
    sleep: c.sleep,
    ...overrides,
  });
  return { queue, clock: c, backing };
}

/** A server that records what it receives and acknowledges everything, or answers as scripted. */
function server(script: SendOutcome['kind'][] = []) {
  const received: string[][] = [];
  const stored = new Set<string>();
  const send = async (messages: QueueMessage[]): Promise<SendOutcome> => {
    received.push(messages.map((m) => m.key));
    const kind = script.shift() ?? 'ok';
    if (kind === 'retry') return { kind, error: 'HTTP 503' };
    if (kind === 'reject') return { kind, error: 'text: must not be empty' };
    messages.forEach((m) => stored.add(m.key));
    return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
  };
  return { send, received, stored };
}

describe('MessageQueue', () => {
  it('keeps send order and one entry per key', () => {
    const q = new MessageQueue();
    expect(q.enqueue(message(1))).toBe(true);
    expect(q.enqueue(message(2))).toBe(true);
    expect(q.enqueue(message(1))).toBe(false);
    expect(q.all().map((m) => m.key)).toEqual(['m-1', 'm-2']);
    expect(q.peek(1).map((m) => m.key)).toEqual(['m-1']);
    expect(q.remove('m-1')).toBe(true);
    expect(q.size).toBe(1);
  });

  it('finds an entry by key, and clears', () => {
    const q = new MessageQueue();
    q.enqueue(message(1));
    expect(q.get('m-1')).toEqual(message(1));
    expect(q.get('m-2')).toBeUndefined();
    expect([q.has('m-1'), q.has('m-2')]).toEqual([true, false]);
    q.clear();
    expect([q.size, q.all(), q.has('m-1')]).toEqual([0, [], false]);
  });
});

describe('PersistentMessageQueue', () => {
  it('stores each message durably before queueing it, one storage entry per message', async () => {
    const { queue, backing } = setup();
    expect(await queue.enqueue(message(1))).toEqual({ durable: true });
    await queue.enqueue(message(2));
    await queue.enqueue(message(1)); // the same key again: ignored
    await queue.ready();
    expect(queue.storageKind).toBe('local');
    expect(backing.length).toBe(2);
    expect(queue.entries().map((e) => [e.message.key, e.status])).toEqual([
      ['m-1', 'queued'],
      ['m-2', 'queued'],
    ]);
  });

  it('replays in order, in batches, and forgets only what the server acknowledged', async () => {
    const { queue, backing } = setup({ batchSize: 2 });
    for (let i = 1; i <= 5; i++) await queue.enqueue(message(i));
    const srv = server();
    const acknowledged: string[] = [];
    const anotherTab = setup({ batchSize: 2, onAcknowledged: (messages) => acknowledged.push(...messages.map((m) => m.key)) }, backing);
    const report = await anotherTab.queue.replayWithPersistence(srv.send);
    expect(report).toEqual({ sent: 5, rejected: 0, stoppedBecause: 'empty' });
    expect(srv.received).toEqual([['m-1', 'm-2'], ['m-3', 'm-4'], ['m-5']]);
    expect(acknowledged).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-5']);
    expect(backing.length).toBe(0);
    await queue.loadPersistedMessages(); // the first instance sees another "tab" finished them
    expect(queue.entries()).toEqual([]);
  });

  it('retries with exponential backoff and marks the batch failed after 5 attempts', async () => {
    const { queue, clock: c } = setup();
    await queue.enqueue(message(1));
    await queue.enqueue(message(2));
    const srv = server(['retry', 'retry', 'retry', 'retry', 'retry']);
    const report = await queue.replayWithPersistence(srv.send);
    expect(report.stoppedBecause).toBe('gave-up');
    expect(srv.received).toHaveLength(DEFAULT_BACKOFF.maxAttempts);
    expect(c.sleeps).toEqual([1000, 2000, 4000, 8000]);
    expect(queue.entries().map((e) => [e.status, e.attempts, e.error])).toEqual([
      ['failed', 5, 'HTTP 503'],
      ['failed', 5, 'HTTP 503'],
    ]);

    // The visitor presses "retry": a new round that succeeds.
    await queue.retry();
    expect(await queue.replayWithPersistence(srv.send)).toEqual({ sent: 2, rejected: 0, stoppedBecause: 'empty' });
    expect(srv.stored).toEqual(new Set(['m-1', 'm-2']));
  });

  it('caps the backoff at 32 s and honours a longer Retry-After', async () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000]);
    const { queue, clock: c } = setup();
    await queue.enqueue(message(1));
    let calls = 0;
    await queue.replayWithPersistence(async (messages) => {
      if (calls++ === 0) return { kind: 'retry', error: 'HTTP 429', retryAfterMs: 20_000 };
      return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
    });
    expect(c.sleeps).toEqual([20_000]);
  });

  it('never retries a permanent rejection on its own, and goes on with the next messages', async () => {
    const { queue } = setup({ batchSize: 1 });
    for (let i = 1; i <= 3; i++) await queue.enqueue(message(i));
    const srv = server(['ok', 'reject', 'ok']);
    expect(await queue.replayWithPersistence(srv.send)).toEqual({ sent: 2, rejected: 1, stoppedBecause: 'empty' });
    expect(srv.received).toEqual([['m-1'], ['m-2'], ['m-3']]);
    expect(queue.entries().map((e) => [e.message.key, e.status, e.error])).toEqual([['m-2', 'rejected', 'text: must not be empty']]);
    expect(await queue.replayWithPersistence(srv.send)).toEqual({ sent: 0, rejected: 0, stoppedBecause: 'empty' });
    expect(srv.received).toHaveLength(3);
  });

  it('keeps and resends a message the server did not acknowledge', async () => {
    const { queue, backing } = setup();
    for (let i = 1; i <= 3; i++) await queue.enqueue(message(i));
    const batches: string[][] = [];
    await queue.replayWithPersistence(async (messages) => {
      batches.push(messages.map((m) => m.key));
      // The first answer covers only m-1 and m-3.
      const acknowledged = batches.length === 1 ? ['m-1', 'm-3'] : messages.map((m) => m.key);
      return { kind: 'ok', acknowledged };
    });
    expect(batches).toEqual([['m-1', 'm-2', 'm-3'], ['m-2']]);
    expect(backing.length).toBe(0);
  });

  it('treats a thrown sender error as retryable', async () => {
    const { queue } = setup();
    await queue.enqueue(message(1));
    let calls = 0;
    const report = await queue.replayWithPersistence(async (messages) => {
      if (calls++ === 0) throw new TypeError('Failed to fetch');
      return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
    });
    expect(report.sent).toBe(1);
  });

  it('waits while offline and keeps every message', async () => {
    let online = false;
    const { queue } = setup({ isOnline: () => online });
    for (let i = 1; i <= 3; i++) await queue.enqueue(message(i));
    const srv = server();
    expect((await queue.replayWithPersistence(srv.send)).stoppedBecause).toBe('offline');
    expect(srv.received).toEqual([]);
    online = true;
    expect(await queue.replayWithPersistence(srv.send)).toEqual({ sent: 3, rejected: 0, stoppedBecause: 'empty' });
  });

  it('survives a reload: a new instance loads the stored messages in order, an interrupted send included', async () => {
    const backing = new TestStorage();
    const first = setup({}, backing).queue;
    for (let i = 1; i <= 3; i++) await first.enqueue(message(i));
    // The page dies while m-1..m-3 are in flight: storage still has them.
    const hang = first.replayWithPersistence(() => new Promise<SendOutcome>(() => {}));
    void hang;

    const reloaded = setup({}, backing).queue;
    expect((await reloaded.loadPersistedMessages()).map((m) => m.key)).toEqual(['m-1', 'm-2', 'm-3']);
    const srv = server();
    await reloaded.replayWithPersistence(srv.send);
    expect(srv.received).toEqual([['m-1', 'm-2', 'm-3']]);
    expect(backing.length).toBe(0);
  });

  it('starts a new round on load for messages that had failed', async () => {
    const backing = new TestStorage();
    const first = setup({}, backing).queue;
    await first.enqueue(message(1));
    await first.replayWithPersistence(server(['retry', 'retry', 'retry', 'retry', 'retry']).send);
    expect(first.entries()[0]!.status).toBe('failed');
    const reloaded = setup({}, backing).queue;
    await reloaded.loadPersistedMessages();
    expect(reloaded.entries().map((e) => [e.status, e.attempts])).toEqual([['queued', 0]]);
  });

  it('lets one tab replay at a time and never sends a message twice', async () => {
    const backing = new TestStorage();
    const locks = lockManager();
    const tabA = setup({ locks }, backing).queue;
    const tabB = setup({ locks }, backing).queue;
    for (let i = 1; i <= 4; i++) await tabA.enqueue(message(i));
    for (let i = 5; i <= 6; i++) await tabB.enqueue(message(i));
    const srv = server();
    const [a, b] = await Promise.all([tabA.replayWithPersistence(srv.send), tabB.replayWithPersistence(srv.send)]);
    const sent = srv.received.flat();
    expect(sent.sort()).toEqual(['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6']);
    expect(new Set(sent).size).toBe(6);
    expect(a.sent + b.sent).toBe(6);
    expect(backing.length).toBe(0);
  });

  it('falls back to a lease in storage without Web Locks', async () => {
    const backing = new TestStorage();
    const tabA = setup({ locks: null }, backing).queue;
    const tabB = setup({ locks: null }, backing).queue;
    await tabA.enqueue(message(1));
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const first = tabA.replayWithPersistence(async (messages) => {
      await slow;
      return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(await tabB.replayWithPersistence(server().send)).toEqual({ sent: 0, rejected: 0, stoppedBecause: 'locked' });
    release();
    expect((await first).sent).toBe(1);
  });

  it('loads only well-formed entries of this version from storage, in send order across tabs', async () => {
    const backing = new TestStorage();
    const prefix = 'omniops:outbox:v1:cust:sess:';
    const valid = (n: number, seq: number) => ({ v: 1, message: message(n), seq, status: 'queued', attempts: 0, nextAttemptAt: 0 });
    // Another tab (its own clock) stored m-2 before m-3 was enqueued here, and m-1 earliest.
    backing.setItem(`${prefix}m-3`, JSON.stringify(valid(3, 3_000)));
    backing.setItem(`${prefix}m-1`, JSON.stringify(valid(1, 1_000)));
    backing.setItem(`${prefix}m-2`, JSON.stringify(valid(2, 2_000)));
    const broken: [string, unknown][] = [
      ['not-json', '{'],
      ['v2', { ...valid(10, 10), v: 2 }],
      ['null-message', { ...valid(11, 11), message: null }],
      ['not-chat', { ...valid(12, 12), message: { ...message(12), type: 'typing' } }],
      ['no-key', { ...valid(13, 13), message: { ...message(13), key: 13 } }],
      ['no-value', { ...valid(14, 14), message: { ...message(14), value: null } }],
      ['no-timestamp', { ...valid(15, 15), message: { ...message(15), timestamp: 'now' } }],
      ['no-seq', { ...valid(16, 16), seq: '16' }],
    ];
    for (const [key, value] of broken) backing.setItem(`${prefix}${key}`, typeof value === 'string' ? value : JSON.stringify(value));
    backing.setItem('omniops:outbox:v1:cust:other-session:m-9', JSON.stringify(valid(9, 9)));
    const { queue } = setup({}, backing);
    expect((await queue.loadPersistedMessages()).map((m) => m.key)).toEqual(['m-1', 'm-2', 'm-3']);
    const srv = server();
    await queue.replayWithPersistence(srv.send);
    expect(srv.received.flat()).toEqual(['m-1', 'm-2', 'm-3']);
  });

  it('sends again a message stored as sending (its tab died mid-request), and keeps one another tab set aside', async () => {
    const backing = new TestStorage();
    const prefix = 'omniops:outbox:v1:cust:sess:';
    const stored = (n: number, status: string, attempts: number) =>
      JSON.stringify({ v: 1, message: message(n), seq: n, status, attempts, nextAttemptAt: 0, error: status === 'rejected' ? 'no' : undefined });
    backing.setItem(`${prefix}m-1`, stored(1, 'sending', 3));
    backing.setItem(`${prefix}m-2`, stored(2, 'rejected', 1));
    const { queue } = setup({}, backing);
    await queue.ready();
    const srv = server();
    // Not a page load (no new round): the interrupted send is queued again, the rejection stays.
    await queue.replayWithPersistence(srv.send);
    expect(srv.received).toEqual([['m-1']]);
    expect(queue.entries().map((e) => [e.message.key, e.status])).toEqual([['m-2', 'rejected']]);
  });

  it('queues again only the rejected messages asked for, and stores that', async () => {
    const backing = new TestStorage();
    const { queue } = setup({ batchSize: 1 }, backing);
    await queue.enqueue(message(1));
    await queue.enqueue(message(2));
    await queue.enqueue(message(3));
    await queue.replayWithPersistence(server(['reject', 'reject', 'ok']).send);
    expect(queue.entries().map((e) => [e.message.key, e.status])).toEqual([['m-1', 'rejected'], ['m-2', 'rejected']]);
    await queue.retry(['m-2']);
    expect(queue.entries().map((e) => [e.message.key, e.status, e.attempts])).toEqual([['m-1', 'rejected', 0], ['m-2', 'queued', 0]]);
    // What a reload finds: the retry was stored, not only made in memory.
    const reloaded = setup({}, backing).queue;
    await reloaded.loadPersistedMessages();
    expect(reloaded.entries().map((e) => [e.message.key, e.status])).toEqual([['m-1', 'rejected'], ['m-2', 'queued']]);
  });

  it('takes a lease that expired without Web Locks, and gives its own back after the round', async () => {
    const backing = new TestStorage();
    const { queue, clock: c } = setup({ locks: null }, backing);
    const leaseKey = 'omniops:lease:v1:cust:sess';
    await queue.enqueue(message(1));
    backing.setItem(leaseKey, JSON.stringify({ owner: 'another-tab', expires: c.now() }));
    expect(await queue.replayWithPersistence(server().send)).toMatchObject({ sent: 1 });
    expect(backing.getItem(leaseKey)).toBeNull();
    // A lease another tab still holds is left alone.
    await queue.enqueue(message(2));
    backing.setItem(leaseKey, JSON.stringify({ owner: 'another-tab', expires: c.now() + 1 }));
    expect(await queue.replayWithPersistence(server().send)).toEqual({ sent: 0, rejected: 0, stoppedBecause: 'locked' });
    expect(JSON.parse(backing.getItem(leaseKey)!)).toMatchObject({ owner: 'another-tab' });
  });

  it('tells its listener every change of the outbox', async () => {
    const seen: string[][] = [];
    const { queue } = setup({ batchSize: 1, onChange: (entries) => seen.push(entries.map((e) => `${e.message.key}:${e.status}`)) });
    await queue.enqueue(message(1));
    await queue.enqueue(message(2));
    expect(seen).toEqual([['m-1:queued'], ['m-1:queued', 'm-2:queued']]);
    seen.length = 0;
    await queue.replayWithPersistence(server(['reject', 'ok']).send);
    expect(seen.at(-1)).toEqual(['m-1:rejected']);
    expect(seen).toContainEqual(['m-1:sending', 'm-2:queued']);
    seen.length = 0;
    await queue.retry();
    expect(seen).toEqual([['m-1:queued']]);
  });

  it('stops a round when told to, keeping what is queued', async () => {
    const { queue } = setup();
    await queue.enqueue(message(1));
    let calls = 0;
    const round = queue.replayWithPersistence(async () => {
      calls++;
      queue.stop(); // while the first batch is in flight: its answer still counts
      return { kind: 'retry', error: 'HTTP 503' };
    });
    expect(await round).toEqual({ sent: 0, rejected: 0, stoppedBecause: 'stopped' });
    expect(calls).toBe(1);
    expect(queue.entries().map((e) => [e.message.key, e.status, e.attempts])).toEqual([['m-1', 'queued', 1]]);
    // The next round starts afresh.
    expect(await queue.replayWithPersistence(server().send)).toMatchObject({ sent: 1, stoppedBecause: 'empty' });
  });

  it('keeps messages in memory, and says so, when storage is unavailable', async () => {
    const blocked = new TestStorage();
    blocked.blocked = true;
    const { queue } = setup({}, blocked);
    await queue.ready();
    expect(queue.storageKind).toBe('memory');
    expect(await queue.enqueue(message(1))).toEqual({ durable: false });
    expect(await queue.replayWithPersistence(server().send)).toMatchObject({ sent: 1 });

    const off = new PersistentMessageQueue({ enablePersistence: false, customerId: 'c', sessionId: 's', locks: null });
    await off.ready();
    expect(off.storageKind).toBe('memory');
  });

  /** A real timer, cut short by the signal; records each requested wait. */
  const realSleep = (record: number[]) => (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      record.push(ms);
      const t = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });

  it('wakes up from a backoff wait when told the network is back', async () => {
    const realSleeps: number[] = [];
    // The clock stands still: the queue reads it when it schedules the retry and again when it
    // computes the wait, and a real clock could move a millisecond in between (a 999 ms wait).
    // Only the sleep is real, so that wake() has a wait to cut short.
    const { queue } = setup({ now: () => 1_700_000_000_000, sleep: realSleep(realSleeps) });
    await queue.enqueue(message(1));
    const srv = server(['retry']);
    const round = queue.replayWithPersistence(srv.send);
    await new Promise((r) => setTimeout(r, 20));
    queue.wake();
    expect(await round).toMatchObject({ sent: 1 });
    expect(realSleeps).toEqual([1000]);
  });

  it('does not let a wake-up cut short the Retry-After the server asked for', async () => {
    const sleeps: number[] = [];
    const { queue } = setup({ now: Date.now, sleep: realSleep(sleeps) });
    await queue.enqueue(message(1));
    let calls = 0;
    const round = queue.replayWithPersistence(async (messages) => {
      if (++calls === 1) return { kind: 'retry', error: 'HTTP 503', retryAfterMs: 300 };
      return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
    });
    await new Promise((r) => setTimeout(r, 20));
    // The visitor sends again: the queue wakes, but waits out what is left of Retry-After.
    await queue.enqueue(message(2));
    queue.wake();
    expect(await round).toMatchObject({ sent: 2 });
    expect(calls).toBe(2);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThan(200);
    expect(sleeps[1]).toBeLessThanOrEqual(300);
  });

  it('records why a thrown send failed on the entry the visitor sees', async () => {
    const { queue } = setup({ backoff: { maxAttempts: 1 } });
    await queue.enqueue(message(1));
    await queue.replayWithPersistence(async () => {
      throw new TypeError('Failed to fetch');
    });
    expect(queue.entries().map((e) => [e.status, e.error])).toEqual([['failed', 'Failed to fetch']]);
  });
});

describe('PersistentMessageQueue across tabs and reloads', () => {
  const prefix = 'omniops:outbox:v1:cust:sess:';
  const storedEntry = (backing: TestStorage, key: string) => JSON.parse(backing.getItem(prefix + key) ?? 'null') as Record<string, unknown> | null;

  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('asks storage for a flushed (strict) write when a message is enqueued', async () => {
    const backing = new TestStorage();
    const inner = webStorageOutboxStore(createSafeStorage('local', () => backing));
    const puts: (boolean | undefined)[] = [];
    const store: OutboxStore = {
      get kind() {
        return inner.kind;
      },
      get: (k) => inner.get(k),
      delete: (k) => inner.delete(k),
      list: (p) => inner.list(p),
      put: (k, v, options) => {
        puts.push(options?.strict);
        return inner.put(k, v, options);
      },
    };
    const { queue } = setup({ store });
    await queue.enqueue(message(1));
    expect(puts).toEqual([true]);
  });

  it('answers an enqueue of a message it already holds with its durability, and leaves its stored state alone', async () => {
    const { queue, backing } = setup();
    await queue.enqueue(message(1));
    await queue.replayWithPersistence(server(['reject']).send);
    expect(await queue.enqueue(message(1))).toEqual({ durable: true });
    expect(storedEntry(backing, 'm-1')).toMatchObject({ status: 'rejected' });
    expect(queue.entries().map((e) => e.status)).toEqual(['rejected']);
  });

  it('keeps the order in which two tabs wrote their messages, several in the same millisecond', async () => {
    const backing = new TestStorage();
    const tabA = setup({}, backing);
    const tabB = setup({}, backing);
    tabB.clock.time = tabA.clock.time + 1;
    for (let i = 1; i <= 3; i++) await tabA.queue.enqueue(message(i)); // all in one millisecond
    await tabB.queue.enqueue(message(4)); // a millisecond later
    const srv = server();
    await setup({}, backing).queue.replayWithPersistence(srv.send);
    expect(srv.received).toEqual([['m-1', 'm-2', 'm-3', 'm-4']]);
  });

  it('queues again, on retry(), only what was rejected or failed: a message waiting out its backoff keeps it', async () => {
    let online = true;
    const { queue } = setup({ batchSize: 1, isOnline: () => online });
    await queue.enqueue(message(1));
    await queue.enqueue(message(2));
    let calls = 0;
    await queue.replayWithPersistence(async () => {
      if (++calls === 1) return { kind: 'reject', error: 'text: must not be empty' };
      online = false;
      return { kind: 'retry', error: 'HTTP 503' };
    });
    const waiting = queue.entries()[1]!;
    expect(waiting).toMatchObject({ status: 'queued', attempts: 1 });
    expect(waiting.nextAttemptAt).toBeGreaterThan(0);
    await queue.retry();
    expect(queue.entries().map((e) => [e.message.key, e.status, e.attempts, e.nextAttemptAt])).toEqual([
      ['m-1', 'queued', 0, 0],
      ['m-2', 'queued', 1, waiting.nextAttemptAt],
    ]);
  });

  it('gives every round its full attempts: a round cut short by going offline does not use up the next', async () => {
    let online = true;
    const { queue } = setup({ isOnline: () => online });
    await queue.enqueue(message(1));
    let calls = 0;
    const first = await queue.replayWithPersistence(async () => {
      if (++calls === 2) online = false;
      return { kind: 'retry', error: 'HTTP 503' };
    });
    expect(first.stoppedBecause).toBe('offline');
    expect(queue.entries()[0]).toMatchObject({ status: 'queued', attempts: 2 });
    online = true;
    calls = 0;
    const second = await queue.replayWithPersistence(async () => {
      calls++;
      return { kind: 'retry', error: 'HTTP 503' };
    });
    expect(second.stoppedBecause).toBe('gave-up');
    expect(calls).toBe(DEFAULT_BACKOFF.maxAttempts);
  });

  it('leaves a failed message for the visitor to retry: a later message does not resend it', async () => {
    const { queue } = setup();
    await queue.enqueue(message(1));
    await queue.replayWithPersistence(server(['retry', 'retry', 'retry', 'retry', 'retry']).send);
    await queue.enqueue(message(2));
    const srv = server();
    await queue.replayWithPersistence(srv.send);
    expect(srv.received).toEqual([['m-2']]);
    expect(queue.entries().map((e) => [e.message.key, e.status])).toEqual([['m-1', 'failed']]);
  });

  it('stores each failed attempt, so a reload or another tab sees how the message stands', async () => {
    const { queue, backing } = setup({ backoff: { maxAttempts: 2 } });
    await queue.enqueue(message(1));
    await queue.replayWithPersistence(server(['retry', 'retry']).send);
    expect(storedEntry(backing, 'm-1')).toMatchObject({ status: 'failed', attempts: 2, error: 'HTTP 503' });
    // Another tab (no new round) leaves it set aside instead of sending it again.
    const srv = server();
    await setup({}, backing).queue.replayWithPersistence(srv.send);
    expect(srv.received).toEqual([]);
  });

  it("takes one Web Lock per session: another session's replay does not wait for this one", async () => {
    const locks = lockManager();
    const a = setup({ locks, sessionId: 'sess-a' }).queue;
    const b = setup({ locks, sessionId: 'sess-b' }).queue;
    await a.enqueue(message(1));
    await b.enqueue(message(2));
    void a.replayWithPersistence(() => new Promise<SendOutcome>(() => {})); // in flight for good
    await new Promise((r) => setTimeout(r, 0));
    const other = await Promise.race([b.replayWithPersistence(server().send), new Promise((r) => setTimeout(() => r('blocked'), 200))]);
    expect(other).toMatchObject({ sent: 1 });
  });

  it('without Web Locks, renews its lease during a long send so another tab does not take over', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const backing = new TestStorage();
    const tabA = setup({ locks: null }, backing);
    const tabB = setup({ locks: null }, backing);
    await tabA.queue.enqueue(message(1));
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const first = tabA.queue.replayWithPersistence(async (messages) => {
      await slow;
      return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
    });
    await new Promise((r) => setTimeout(r, 0));
    // 20 s pass in both tabs (the lease is 15 s): tab A has renewed it meanwhile.
    for (let i = 0; i < 4; i++) {
      tabA.clock.time += 5_000;
      tabB.clock.time += 5_000;
      await vi.advanceTimersByTimeAsync(5_000);
    }
    expect(await tabB.queue.replayWithPersistence(server().send)).toEqual({ sent: 0, rejected: 0, stoppedBecause: 'locked' });
    release();
    expect((await first).sent).toBe(1);
  });

  it("without Web Locks, leaves another tab's lease in place at the end of its round, and copes with a vanished one", async () => {
    const backing = new TestStorage();
    const leaseKey = 'omniops:lease:v1:cust:sess';
    const { queue } = setup({ locks: null }, backing);
    await queue.enqueue(message(1));
    const taken = JSON.stringify({ owner: 'another-tab', expires: Number.MAX_SAFE_INTEGER });
    await queue.replayWithPersistence(async (messages) => {
      backing.setItem(leaseKey, taken); // our lease expired and another tab took it meanwhile
      return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
    });
    expect(backing.getItem(leaseKey)).toBe(taken);

    backing.removeItem(leaseKey);
    await queue.enqueue(message(2));
    const report = await queue.replayWithPersistence(async (messages) => {
      backing.removeItem(leaseKey); // storage cleared under us
      return { kind: 'ok', acknowledged: messages.map((m) => m.key) };
    });
    expect(report.sent).toBe(1);
  });

  it('never drops a message that storage refused (quota) as if another tab had sent it', async () => {
    const backing = new TestStorage(700); // room for one stored message, not two
    const { queue } = setup({}, backing);
    expect(await queue.enqueue(message(1))).toEqual({ durable: true });
    expect(await queue.enqueue(message(2))).toEqual({ durable: false });
    await queue.loadPersistedMessages();
    const srv = server();
    await queue.replayWithPersistence(srv.send);
    expect(srv.received.flat()).toEqual(['m-1', 'm-2']);
  });

  it('after a reload, drops what another tab has sent since instead of sending it twice', async () => {
    const backing = new TestStorage();
    await setup({}, backing).queue.enqueue(message(1));
    const reloaded = setup({}, backing).queue;
    await reloaded.loadPersistedMessages();
    await setup({}, backing).queue.replayWithPersistence(server().send); // another tab sends m-1
    const srv = server();
    expect(await reloaded.replayWithPersistence(srv.send)).toMatchObject({ sent: 0 });
    expect(srv.received).toEqual([]);
    expect(reloaded.entries()).toEqual([]);
  });

  it("tells its listener when another tab's messages arrive or are acknowledged", async () => {
    const backing = new TestStorage();
    let seen: string[] = [];
    const tab = setup({ onChange: (entries) => (seen = entries.map((e) => e.message.key)) }, backing).queue;
    await tab.enqueue(message(1));
    await setup({}, backing).queue.enqueue(message(2));
    await tab.loadPersistedMessages();
    expect(seen).toEqual(['m-1', 'm-2']);
    await setup({}, backing).queue.replayWithPersistence(server().send); // another tab sends both
    await tab.replayWithPersistence(server().send);
    expect(seen).toEqual([]);
  });

  it('is in memory until its storage has opened', async () => {
    let open!: (store: OutboxStore) => void;
    const backing = new TestStorage();
    const queue = new PersistentMessageQueue({
      enablePersistence: true,
      customerId: 'cust',
      sessionId: 'sess',
      store: new Promise<OutboxStore>((r) => (open = r)),
      locks: null,
    });
    expect(queue.storageKind).toBe('memory');
    open(webStorageOutboxStore(createSafeStorage('local', () => backing)));
    await queue.ready();
    expect(queue.storageKind).toBe('local');
  });

  it("uses the browser's Web Locks and online state when none are given", async () => {
    const names: string[] = [];
    const locks = lockManager();
    vi.stubGlobal('navigator', {
      onLine: false,
      locks: { request: <T>(name: string, cb: () => Promise<T>) => (names.push(name), locks.request(name, cb)) },
    });
    const queue = new PersistentMessageQueue({ enablePersistence: false, customerId: 'cust', sessionId: 'sess' });
    await queue.enqueue(message(1));
    expect(await queue.replayWithPersistence(server().send)).toMatchObject({ stoppedBecause: 'offline' });
    expect(names).toEqual(['omniops-replay:cust:sess']);
    // No navigator at all (not a browser): online, and a lease instead of Web Locks.
    vi.stubGlobal('navigator', undefined);
    const plain = new PersistentMessageQueue({ enablePersistence: false, customerId: 'cust', sessionId: 'sess' });
    await plain.enqueue(message(1));
    expect(await plain.replayWithPersistence(server().send)).toMatchObject({ sent: 1 });
    // A navigator without onLine (Node.js 21+, some workers) is not taken for offline.
    vi.stubGlobal('navigator', {});
    const headless = new PersistentMessageQueue({ enablePersistence: false, customerId: 'cust', sessionId: 'sess2' });
    await headless.enqueue(message(1));
    expect(await headless.replayWithPersistence(server().send)).toMatchObject({ sent: 1 });
    vi.unstubAllGlobals();
  });

  it('waits out a backoff with a real timer that a wake-up cuts short', async () => {
    const { queue } = setup({ now: Date.now, sleep: undefined, backoff: { initialMs: 60_000 } });
    await queue.enqueue(message(1));
    const round = queue.replayWithPersistence(server(['retry']).send);
    await new Promise((r) => setTimeout(r, 30));
    queue.wake();
    const report = await Promise.race([round, new Promise((r) => setTimeout(() => r('still asleep'), 2_000))]);
    expect(report).toMatchObject({ sent: 1 });
  });
});
