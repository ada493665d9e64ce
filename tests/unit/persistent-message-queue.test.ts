import { describe, expect, it } from 'vitest';
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
import { webStorageOutboxStore } from '@/lib/chat-widget/storage/outbox-store';
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
});
