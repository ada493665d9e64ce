/**
 * PersistentMessageQueue (docs/widget.md): the widget's outbox, which never loses a message the visitor
 * typed and never delivers one twice.
 *
 * - Every message is written to durable browser storage (IndexedDB, else safeLocalStorage — see
 *   outbox-store.ts) before the UI shows it as queued — one storage entry per message, so a change
 *   never rewrites the queue.
 * - Replay sends in order, in batches, and removes a message only once the server acknowledged it.
 *   The server is idempotent on the message key, so every resend is safe; a crash or reload between
 *   sending and the acknowledgement just resends.
 * - Outcomes are status-aware: network errors, timeouts (ambiguous: the server may have committed),
 *   408, 429 and 5xx are retried with exponential backoff (1 s doubling, capped at 32 s, honouring
 *   Retry-After), at most 5 attempts per round, after which the messages are `failed` until the
 *   visitor retries or a new round starts (page load, back online). Any other 4xx is a permanent
 *   rejection: shown, never retried on its own.
 * - Only one tab replays at a time (Web Locks; a lease in storage where they are missing). Whoever
 *   replays sends every tab's messages, since they share storage.
 *
 * Lessons applied: Workbox background-sync drops requests that got a 5xx (GoogleChrome/workbox#2599)
 * — here only an acknowledgement removes a message; and it never replays on reconnect in some
 * browsers (#3335) — here the widget replays on `online`, on load, and after every send.
 */
import { createSafeStorage } from '@/lib/utils/storage';
import { MessageQueue, type QueueMessage } from './message-queue';
import { openOutboxStore, webStorageOutboxStore, type OutboxStore, type OutboxStoreKind } from './outbox-store';

export type { QueueMessage };

/**
 * queued: durably stored, waiting its turn (offline, backing off, or next in line);
 * sending: a request carrying it is in flight; failed: a round gave up after its attempts;
 * rejected: the server refused it (4xx) — retrying would fail the same way unless something changed.
 * Acknowledged messages leave the outbox.
 */
export type OutboxStatus = 'queued' | 'sending' | 'failed' | 'rejected';

export interface OutboxEntry {
  message: QueueMessage;
  /** Send order. */
  seq: number;
  status: OutboxStatus;
  /** Attempts in the current round. */
  attempts: number;
  /** Not before this time (ms since the epoch). */
  nextAttemptAt: number;
  error?: string;
}

export type SendOutcome =
  | { kind: 'ok'; acknowledged: string[] }
  | { kind: 'retry'; error: string; retryAfterMs?: number }
  | { kind: 'reject'; error: string };

/** Sends a batch of messages, in order, and classifies the outcome (see transport.ts). */
export type Sender = (messages: QueueMessage[]) => Promise<SendOutcome>;

export interface BackoffPolicy {
  /** @default 1000 */
  initialMs: number;
  /** @default 32000 */
  maxMs: number;
  /** Attempts per round before a message is `failed`. @default 5 */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, maxMs: 32_000, maxAttempts: 5 };

/** The delay after the `attempt`-th failed attempt (1-based): initial · 2^(attempt−1), capped. */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxMs, policy.initialMs * 2 ** (attempt - 1));
}

export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface PersistentMessageQueueOptions {
  enablePersistence: boolean;
  customerId: string;
  sessionId: string;
  conversationId?: string;
  /** @default openOutboxStore() — IndexedDB, else safeLocalStorage (memory only when enablePersistence is false) */
  store?: OutboxStore | Promise<OutboxStore>;
  /** @default navigator.locks when available, else a lease kept in storage */
  locks?: LockManagerLike | null;
  backoff?: Partial<BackoffPolicy>;
  /**
   * Messages per request. @default 10 — the server takes up to 100, but answers at most 10 of a
   * request inside it (lib/widget/limits.ts); a visitor's messages enter the conversation when they
   * are answered, so batches of 10 show a long offline backlog without waiting for the queue worker.
   */
  batchSize?: number;
  /** @default () => navigator.onLine !== false (online where there is no navigator or it has no onLine) */
  isOnline?: () => boolean;
  /** Called with the whole outbox, in order, after every change. */
  onChange?: (entries: OutboxEntry[]) => void;
  /** Called with the messages the server acknowledged (they have left the outbox). */
  onAcknowledged?: (messages: QueueMessage[]) => void;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ReplayReport {
  sent: number;
  rejected: number;
  /** Why the round ended: nothing left; offline; a batch used up its attempts; another tab holds the lease; stop(). */
  stoppedBecause: 'empty' | 'offline' | 'gave-up' | 'locked' | 'stopped';
}

interface StoredEntry extends OutboxEntry {
  v: 1;
}

const LEASE_MS = 15_000;

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function isQueueMessage(value: unknown): value is QueueMessage {
  const m = value as QueueMessage;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.type === 'chat' &&
    typeof m.key === 'string' &&
    typeof m.value === 'string' &&
    typeof m.timestamp === 'number'
  );
}

export class PersistentMessageQueue {
  readonly customerId: string;
  readonly sessionId: string;
  readonly conversationId: string | undefined;
  private readonly opening: Promise<OutboxStore>;
  private store: OutboxStore | undefined;
  private readonly prefix: string;
  private readonly memory = new MessageQueue<OutboxEntry & { key: string }>();
  /** Keys whose entry reached durable storage (so its absence there means another tab finished it). */
  private readonly durableKeys = new Set<string>();
  private readonly policy: BackoffPolicy;
  private readonly batchSize: number;
  private readonly locks: LockManagerLike | null;
  private readonly isOnline: () => boolean;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly onChange?: (entries: OutboxEntry[]) => void;
  private readonly onAcknowledged?: (messages: QueueMessage[]) => void;
  private readonly tabId = Math.random().toString(36).slice(2);
  private counter = 0;
  private running: Promise<ReplayReport> | undefined;
  private abort = new AbortController();
  private wakeup = new AbortController();
  /** Until when the server asked (Retry-After) not to be called again: a wake() does not override it. */
  private holdUntil = 0;

  constructor(options: PersistentMessageQueueOptions) {
    this.customerId = options.customerId;
    this.sessionId = options.sessionId;
    this.conversationId = options.conversationId;
    this.opening = Promise.resolve(
      options.enablePersistence
        ? (options.store ?? openOutboxStore())
        : webStorageOutboxStore(createSafeStorage('local', () => undefined)),
    ).then((store) => (this.store = store));
    this.prefix = `omniops:outbox:v1:${options.customerId}:${options.sessionId}:`;
    this.policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.batchSize = options.batchSize ?? 10;
    const browserLocks = typeof navigator !== 'undefined' && 'locks' in navigator ? navigator.locks : null;
    this.locks = options.locks === undefined ? (browserLocks as LockManagerLike | null) : options.locks;
    // Only an explicit `false` is offline: Node.js (21+) and some workers have a navigator without onLine.
    this.isOnline = options.isOnline ?? (() => typeof navigator === 'undefined' || navigator.onLine !== false);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? abortableSleep;
    this.onChange = options.onChange;
    this.onAcknowledged = options.onAcknowledged;
  }

  /**
   * Where the outbox is kept: 'indexeddb' and 'local' survive reloads and restarts (IndexedDB also a
   * crash), 'session' only the tab, 'memory' nothing. 'memory' until the store has opened (ready()).
   */
  get storageKind(): OutboxStoreKind {
    return this.store?.kind ?? 'memory';
  }

  /** Resolves once browser storage is open. */
  async ready(): Promise<void> {
    await this.opening;
  }

  /** The outbox, in send order. */
  entries(): OutboxEntry[] {
    return this.memory.all().map(({ message, seq, status, attempts, nextAttemptAt, error }) => ({
      message,
      seq,
      status,
      attempts,
      nextAttemptAt,
      error,
    }));
  }

  /**
   * Store `message` durably, then queue it. `durable` is false when browser storage refused it
   * (it is then kept in memory and would not survive a reload).
   */
  async enqueue(message: QueueMessage): Promise<{ durable: boolean }> {
    const existing = this.memory.get(message.key);
    if (existing) return { durable: this.durableKeys.has(message.key) };
    const entry: OutboxEntry = {
      message,
      seq: this.now() * 1000 + (this.counter++ % 1000),
      status: 'queued',
      attempts: 0,
      nextAttemptAt: 0,
    };
    const result = await this.write(entry, { strict: true });
    if (this.memory.has(message.key)) return result; // enqueued concurrently while this one was writing
    this.memory.enqueue({ key: message.key, ...entry });
    this.emit();
    return result;
  }

  /**
   * Load what storage holds (after a reload, a crash, or another tab's writes) into the queue. A
   * page load starts a new round, so messages that had failed are queued again.
   */
  async loadPersistedMessages(): Promise<QueueMessage[]> {
    await this.syncFromStorage({ newRound: true });
    return this.entries().map((e) => e.message);
  }

  /** Queue failed or rejected messages again (all, or those with `keys`) for the next replay. */
  async retry(keys?: string[]): Promise<void> {
    const again = this.memory
      .all()
      .filter((e) => (e.status === 'failed' || e.status === 'rejected') && (!keys || keys.includes(e.key)));
    for (const entry of again) Object.assign(entry, { status: 'queued', attempts: 0, nextAttemptAt: 0, error: undefined });
    this.emit();
    await Promise.all(again.map((entry) => this.write(entry)));
  }

  /**
   * Send everything queued, in order, with `sender`, until the outbox is empty, the browser goes
   * offline, or a batch uses up its attempts. One round at a time per tab (a second call joins the
   * running round) and one tab at a time per session.
   */
  replayWithPersistence(sender: Sender): Promise<ReplayReport> {
    this.running ??= this.withReplayLock(() => this.replay(sender)).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stop a running replay (its in-flight request still completes; nothing is lost). */
  stop(): void {
    this.abort.abort();
    this.abort = new AbortController();
  }

  /**
   * Something changed for the better (the browser came back online, the visitor sent another
   * message): end any backoff wait and try the queued messages now — or, when the server's last
   * answer carried Retry-After, as soon as that has passed (another send would not be welcome
   * sooner, and waking must not burn the round's attempts).
   */
  wake(): void {
    for (const entry of this.memory.all()) {
      if (entry.status === 'queued') entry.nextAttemptAt = this.holdUntil > this.now() ? this.holdUntil : 0;
    }
    this.wakeup.abort();
    this.wakeup = new AbortController();
  }

  private async replay(sender: Sender): Promise<ReplayReport> {
    const signal = this.abort.signal;
    const report: ReplayReport = { sent: 0, rejected: 0, stoppedBecause: 'empty' };
    for (const entry of this.memory.all()) {
      if (entry.status === 'queued') entry.attempts = 0; // a new round
    }
    for (;;) {
      if (signal.aborted) return { ...report, stoppedBecause: 'stopped' };
      await this.syncFromStorage({ newRound: false });
      if (!this.isOnline()) return { ...report, stoppedBecause: 'offline' };
      const due = this.memory.all().filter((e) => e.status === 'queued');
      if (due.length === 0) return report;
      const wait = due[0]!.nextAttemptAt - this.now();
      if (wait > 0) {
        await this.sleep(wait, AbortSignal.any([signal, this.wakeup.signal]));
        continue;
      }
      const batch = due.slice(0, this.batchSize);
      for (const entry of batch) entry.status = 'sending';
      this.emit();
      let outcome: SendOutcome;
      try {
        outcome = await sender(batch.map((e) => e.message));
      } catch (error) {
        outcome = { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
      }
      if (outcome.kind !== 'retry') this.holdUntil = 0;
      if (outcome.kind === 'ok') {
        const acknowledged = new Set(outcome.acknowledged);
        const done: QueueMessage[] = [];
        for (const entry of batch) {
          if (acknowledged.has(entry.key)) {
            this.memory.remove(entry.key);
            this.durableKeys.delete(entry.key);
            done.push(entry.message);
          } else {
            entry.status = 'queued'; // not in the answer: send it again
          }
        }
        report.sent += done.length;
        this.onAcknowledged?.(done);
        this.emit();
        await Promise.all(done.map((m) => this.store!.delete(this.prefix + m.key)));
      } else if (outcome.kind === 'reject') {
        for (const entry of batch) Object.assign(entry, { status: 'rejected', error: outcome.error });
        report.rejected += batch.length;
        this.emit();
        await Promise.all(batch.map((entry) => this.write(entry)));
      } else {
        const attempts = batch[0]!.attempts + 1;
        const gaveUp = attempts >= this.policy.maxAttempts;
        const delay = Math.max(backoffDelay(attempts, this.policy), outcome.retryAfterMs ?? 0);
        this.holdUntil = outcome.retryAfterMs === undefined ? 0 : this.now() + outcome.retryAfterMs;
        for (const entry of batch) {
          Object.assign(entry, {
            status: gaveUp ? 'failed' : 'queued',
            attempts,
            nextAttemptAt: gaveUp ? 0 : this.now() + delay,
            error: outcome.error,
          });
        }
        this.emit();
        await Promise.all(batch.map((entry) => this.write(entry)));
        if (gaveUp) return { ...report, stoppedBecause: 'gave-up' };
      }
    }
  }

  private async withReplayLock(run: () => Promise<ReplayReport>): Promise<ReplayReport> {
    const store = await this.opening;
    const name = `omniops-replay:${this.customerId}:${this.sessionId}`;
    if (this.locks) return this.locks.request(name, run);
    // No Web Locks: a lease in shared storage, taken only when free or expired.
    const leaseKey = `omniops:lease:v1:${this.customerId}:${this.sessionId}`;
    const lease = this.parse<{ owner: string; expires: number }>(await store.get(leaseKey));
    if (lease && lease.owner !== this.tabId && lease.expires > this.now()) {
      return { sent: 0, rejected: 0, stoppedBecause: 'locked' };
    }
    const take = () => store.put(leaseKey, JSON.stringify({ owner: this.tabId, expires: this.now() + LEASE_MS }));
    await take();
    const renew = setInterval(() => void take(), LEASE_MS / 3);
    try {
      return await run();
    } finally {
      clearInterval(renew);
      if (this.parse<{ owner: string }>(await store.get(leaseKey))?.owner === this.tabId) await store.delete(leaseKey);
    }
  }

  /**
   * Merge storage into memory: entries written by other tabs (or before a reload) join in send
   * order; durable entries that vanished from storage were acknowledged by another tab.
   */
  private async syncFromStorage({ newRound }: { newRound: boolean }): Promise<void> {
    const store = await this.opening;
    const stored = new Map<string, OutboxEntry>();
    for (const [, raw] of await store.list(this.prefix)) {
      const entry = this.parse<StoredEntry>(raw);
      if (entry && entry.v === 1 && isQueueMessage(entry.message) && typeof entry.seq === 'number') {
        stored.set(entry.message.key, entry);
      }
    }
    let changed = false;
    // Absence from storage means "acknowledged by another tab" only while storage is readable.
    const readable = store.kind !== 'memory';
    for (const entry of this.memory.all()) {
      if (readable && this.durableKeys.has(entry.key) && !stored.has(entry.key) && entry.status !== 'sending') {
        this.memory.remove(entry.key);
        this.durableKeys.delete(entry.key);
        changed = true;
      }
    }
    const incoming = [...stored.values()].filter((e) => !this.memory.has(e.message.key));
    if (incoming.length > 0 || newRound) {
      const merged = [...this.memory.all(), ...incoming.map((e) => ({ key: e.message.key, ...e }))].sort(
        (a, b) => a.seq - b.seq,
      );
      this.memory.clear();
      for (const entry of merged) {
        // A stored 'sending' was interrupted (reload, crash): its outcome is unknown, so send it again.
        if (entry.status === 'sending' || (newRound && entry.status === 'failed')) {
          Object.assign(entry, { status: 'queued', attempts: 0, nextAttemptAt: 0 });
        }
        this.memory.enqueue(entry);
        if (stored.has(entry.key)) this.durableKeys.add(entry.key);
      }
      changed = true;
    }
    if (changed) this.emit();
  }

  private async write(entry: OutboxEntry, options?: { strict?: boolean }): Promise<{ durable: boolean }> {
    const store = await this.opening;
    const { message, seq, status, attempts, nextAttemptAt, error } = entry;
    const stored: StoredEntry = { v: 1, message, seq, status, attempts, nextAttemptAt, error };
    const result = await store.put(this.prefix + message.key, JSON.stringify(stored), options);
    if (result.durable) this.durableKeys.add(message.key);
    return result;
  }

  private parse<T>(raw: string | null): T | undefined {
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as T;
    } catch {
      return undefined;
    }
  }

  private emit(): void {
    this.onChange?.(this.entries());
  }
}
