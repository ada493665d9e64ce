/**
 * The permanent tier when its primary (Supabase or DATABASE_URL) can go away: a `Db` that serves
 * from the primary, switches to the embedded PGlite when the primary is unreachable, journals every
 * write made there, and replays the journal into the primary — in order, exactly once — before
 * switching back.
 *
 * - Unreachable is decided by health probes, never by one call: `failoverProbes` consecutive pings
 *   (each on a connection of its own, bounded by `pingTimeoutMs`) that fail with a connection
 *   error (SQLSTATE class 08 and kin, see isConnectionError). A call that fails with a connection
 *   error, or has not answered after `slowCallMs` (a primary that stopped answering without
 *   refusing: a blackholed network, a hung server), makes the process probe. While the probe
 *   answers, the call's error is its own (one gateway error, one broken connection: the caller
 *   gets a 503 and retries) and a slow call keeps waiting (the statement timeout bounds it);
 *   when the probes fail, the process switches. A constraint violation or any other SQL error is
 *   the caller's, never a reason to probe.
 * - At the switch the primary's connections are abandoned (they may hang for minutes), and every
 *   call still waiting on the primary is run again on the fallback: every write RPC is idempotent
 *   on its client key, so even a write the primary may have committed before it went away is safe
 *   to repeat (replay then finds it done). With the defaults (1 s, 2 probes of 1 s) a blackholed
 *   primary is left about 3 s after the first call that hangs on it.
 * - On the fallback, writes go through `journal_exec`, which runs the RPC and records it in one
 *   transaction; functions marked 'omniops:local' (claims, cron bookkeeping) run unrecorded.
 * - A probe (every `probeIntervalMs`, unref'd) pings the primary; when it answers, the journal is
 *   replayed in batches (`journal_apply`: one round trip per batch, each entry in its own
 *   subtransaction on the primary) while calls keep going to the fallback, then — with new calls
 *   held at a gate and the ones in flight finished — the last entries are replayed and calls go to
 *   the primary again. An entry the primary refuses with an SQL error is set aside (status
 *   'failed', reported in health) and the rest go on; a transient error (deadlock, lock timeout)
 *   is retried a few times; a connection error stops the replay until the next probe.
 * - While the primary is up, the fallback keeps a copy of the customers (key, origins, plan), so
 *   the widget's checks still pass during an outage.
 * - A process that dies mid-replay leaves entries pending; the next start replays them before it
 *   serves from the primary.
 * - A replayed call carries `replayedFrom: <seq>`: it was accepted on the fallback, so plan limits
 *   count it on the primary without refusing it (refusing it then would lose an acknowledged write).
 *
 * Reads during an outage see the fallback's data: what was written during the outage, plus the
 * customers; not the primary's older conversations. After recovery, reads see the primary, which
 * then holds both. `generation` changes at each switch, so clients that page by position (the
 * widget) know to read again from the start.
 */
import { createLogger, type Logger } from '@/lib/log';
import { DbError, SqlState, isConnectionError, isTransientError } from './errors';
import type { Db, DbKind, ServingStatus } from './types';

export interface JournalStatus {
  pending: number;
  replayed: number;
  failed: number;
  lastSeq: number | null;
  headHash: string | null;
  failures: { seq: number; fn: string; error: string }[];
}

export interface FallbackDbOptions {
  primary: Db;
  /** Opens (and migrates) the embedded database. Called once, on first need. */
  openFallback: () => Promise<Db>;
  /** How often to probe an unreachable primary (and refresh the customer copy). @default 30000 */
  probeIntervalMs?: number;
  /** How long a probe or the start-up check waits for the primary. @default 1000 */
  pingTimeoutMs?: number;
  /** A call on the primary unanswered this long makes the process probe the primary. @default 1000 */
  slowCallMs?: number;
  /** Consecutive failed probes that make the process switch to the fallback. @default 2 */
  failoverProbes?: number;
  /** Entries replayed per round trip to the fallback. @default 200 */
  replayBatch?: number;
  logger?: Logger;
}

interface JournalEntry {
  seq: number;
  fn: string;
  args: object;
}

/** What journal_apply answers (supabase/migrations/20261122055000_journal_apply.sql). */
interface ApplyOutcome {
  applied: number[];
  failed: { seq: number; code: string; error: string }[];
  /** A transient error stopped the batch at this entry. */
  stopped: { seq: number; code: string; error: string } | null;
  /** The connection was lost (per-entry path only). */
  lost?: DbError;
}

/** Transient errors in a row before a replay waits for the next probe. */
const MAX_TRANSIENT_RETRIES = 3;

/** Pause between consecutive probes, so a refused connection is not counted twice in a millisecond. */
const PROBE_GAP_MS = 100;

/** A call on the primary: its result, or the reason the primary is considered gone. */
type PrimaryOutcome<T> = { ok: true; value: T } | { ok: false; error: DbError };

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DbError(SqlState.unableToConnect, `[omniops] [db] ${what} timed out after ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class FallbackDb implements Db {
  /** The primary's kind: callers never see which backend answered (health does). */
  readonly kind: DbKind;
  private readonly primary: Db;
  private readonly openFallback: () => Promise<Db>;
  private readonly probeIntervalMs: number;
  private readonly pingTimeoutMs: number;
  private readonly slowCallMs: number;
  private readonly failoverProbes: number;
  private readonly replayBatch: number;
  private readonly log: Logger;
  private fallback: Promise<{ db: Db; journaled: Set<string> }> | undefined;
  private mode: 'primary' | 'fallback' = 'primary';
  private since: Date | null = null;
  private lastError: string | null = null;
  private generationCounter = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private recovering: Promise<boolean> | undefined;
  /** The health check in progress: null when the primary answered, else why it did not. */
  private verifying: Promise<DbError | null> | undefined;
  private entering: Promise<void> | undefined;
  /** Closed while the last journal entries are replayed: new calls wait for the switch. */
  private gate: Promise<void> = Promise.resolve();
  private inFlightOnFallback = 0;
  private fallbackIdle: (() => void) | undefined;
  private closed = false;

  constructor(options: FallbackDbOptions) {
    this.primary = options.primary;
    this.kind = options.primary.kind;
    this.openFallback = options.openFallback;
    this.probeIntervalMs = options.probeIntervalMs ?? 30_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1000;
    this.slowCallMs = options.slowCallMs ?? 1000;
    this.failoverProbes = Math.max(1, options.failoverProbes ?? 2);
    this.replayBatch = options.replayBatch ?? 200;
    this.log = options.logger ?? createLogger('db');
  }

  /** Changes at every switch between primary and fallback. */
  get generation(): number {
    return this.generationCounter;
  }

  /**
   * Start serving: with the primary reachable (its health probes, see verify()), first replay whatever a previous process left in
   * the journal (`hasJournal`: the embedded database already exists), then serve from the primary;
   * otherwise serve from the fallback. Starts the probe either way.
   */
  async start({ hasJournal }: { hasJournal: boolean }): Promise<void> {
    this.timer = setInterval(() => void this.tick(), this.probeIntervalMs);
    this.timer.unref?.();
    const down = await this.verify();
    if (down) {
      await this.enterFallback(down);
      return;
    }
    if (hasJournal) {
      const { db } = await this.fallbackDb();
      const status = await db.rpc<JournalStatus>('journal_status');
      if (status.pending > 0) {
        this.log.warn(`${status.pending} journaled write(s) from a previous run: replaying before serving from the primary`);
        this.mode = 'fallback'; // serve consistently from the fallback until the replay is done
        this.since = new Date();
        this.generationCounter++;
        if (!(await this.recover())) return;
      }
    }
    await this.refreshCustomerCopy();
  }

  async rpc<T = unknown>(fn: string, args: object = {}): Promise<T> {
    await this.gate;
    if (this.mode === 'primary') {
      const outcome = await this.onPrimary(() => this.primary.rpc<T>(fn, args));
      if (outcome.ok) return outcome.value;
      await this.enterFallback(outcome.error);
    }
    return this.onFallback<T>(fn, args);
  }

  async ping(): Promise<void> {
    if (this.mode === 'primary') return this.primary.ping();
    await (await this.fallbackDb()).db.ping();
  }

  fallbackActive(): boolean {
    return this.mode === 'fallback';
  }

  servingStatus(): Promise<ServingStatus> {
    return this.status();
  }

  async status(): Promise<ServingStatus> {
    let journal: Pick<JournalStatus, 'pending' | 'failed'> = { pending: 0, failed: 0 };
    if (this.fallback) {
      try {
        journal = await (await this.fallback).db.rpc<JournalStatus>('journal_status');
      } catch (error) {
        this.log.warn(`journal status unavailable: ${(error as Error).message}`);
      }
    }
    return {
      primary: this.kind,
      fallbackActive: this.fallbackActive(),
      since: this.since?.toISOString() ?? null,
      journalPending: journal.pending,
      journalFailed: journal.failed,
      lastError: this.lastError,
      generation: this.generationCounter,
    };
  }

  /** The journal of the embedded database (health, dashboard, tests). */
  async journal(): Promise<JournalStatus> {
    return (await this.fallbackDb()).db.rpc<JournalStatus>('journal_status');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.recovering?.catch(() => false);
    await this.primary.close();
    if (this.fallback) await (await this.fallback).db.close();
  }

  /**
   * Probe the primary and, when it answers, replay the journal and switch back. Resolves true when
   * calls go to the primary afterwards. One at a time; the probe timer calls it.
   */
  recover(): Promise<boolean> {
    this.recovering ??= this.replayAndSwitch().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    if (this.mode === 'fallback') await this.recover();
    else await this.refreshCustomerCopy();
  }

  private fallbackDb(): Promise<{ db: Db; journaled: Set<string> }> {
    this.fallback ??= (async () => {
      const db = await this.openFallback();
      const journaled = new Set(await db.rpc<string[]>('system_journaled_functions'));
      return { db, journaled };
    })().catch((error: unknown) => {
      this.fallback = undefined;
      throw error;
    });
    return this.fallback;
  }

  private enterFallback(reason: DbError): Promise<void> {
    this.lastError = reason.message;
    if (this.mode === 'fallback') return Promise.resolve();
    this.entering ??= (async () => {
      await this.fallbackDb();
      if (this.mode === 'fallback') return;
      this.mode = 'fallback';
      this.since = new Date();
      this.generationCounter++;
      // Calls hung on the primary fail now (and go to the fallback, see onPrimary); the replay
      // and later calls get fresh connections.
      this.primary.abandonConnections?.();
      this.log.warn(
        `primary ${this.kind} unreachable (${reason.message}): serving from the embedded database, journaling writes; probing every ${this.probeIntervalMs / 1000} s`,
      );
    })().finally(() => {
      this.entering = undefined;
    });
    return this.entering;
  }

  /**
   * Run `call` on the primary, watched: a connection error, or no answer after `slowCallMs`, makes
   * the process probe the primary (verify). Resolves `ok: false` when the primary is considered
   * gone — the probes failed, or the process switched to the fallback while the call waited — and
   * rejects with the call's own error otherwise.
   */
  private async onPrimary<T>(call: () => Promise<T>): Promise<PrimaryOutcome<T>> {
    const generation = this.generationCounter;
    const switched = () => this.generationCounter !== generation;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const gone = new Promise<PrimaryOutcome<T>>((resolve) => {
      timer = setTimeout(() => {
        if (switched()) {
          resolve({ ok: false, error: new DbError(SqlState.connectionFailure, `[omniops] [db] ${this.lastError ?? 'primary unreachable'}`) });
          return;
        }
        void this.verify().then((error) => {
          if (error && !settled) resolve({ ok: false, error });
        });
      }, this.slowCallMs);
      timer.unref?.();
    });
    try {
      return await Promise.race([call().then((value): PrimaryOutcome<T> => ({ ok: true, value })), gone]);
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      if (switched()) return { ok: false, error: error as DbError };
      const down = await this.verify();
      if (down) return { ok: false, error: down };
      throw error; // the primary answers its probe: this call's failure is its own
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /** Probe the primary up to `failoverProbes` times: null as soon as it answers, else the last failure. */
  private verify(): Promise<DbError | null> {
    this.verifying ??= (async () => {
      let failure: DbError | null = null;
      for (let attempt = 0; attempt < this.failoverProbes && !this.closed; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, PROBE_GAP_MS).unref?.());
        try {
          await this.probe();
          return null;
        } catch (error) {
          // Anything but a connection error is an answer: the server is there.
          if (!isConnectionError(error)) return null;
          failure = error as DbError;
        }
      }
      if (failure) this.log.warn(`primary ${this.kind} failed ${this.failoverProbes} health probe(s) in a row: ${failure.message}`);
      return failure;
    })().finally(() => {
      this.verifying = undefined;
    });
    return this.verifying;
  }

  /** One health probe: the primary's ping, bounded by `pingTimeoutMs`. */
  private probe(): Promise<void> {
    return withTimeout(this.primary.ping(), this.pingTimeoutMs, 'primary ping');
  }

  private async onFallback<T>(fn: string, args: object): Promise<T> {
    // Counted before the first await: the final drain (replayAndSwitch) must see every call that
    // chose the fallback, or a write could land in the journal after the switch back.
    this.inFlightOnFallback++;
    try {
      const { db, journaled } = await this.fallbackDb();
      if (!journaled.has(fn)) return await db.rpc<T>(fn, args);
      return (await db.rpc<{ result: T }>('journal_exec', { fn, args })).result;
    } finally {
      if (--this.inFlightOnFallback === 0) this.fallbackIdle?.();
    }
  }

  /**
   * Replay pending entries until none is left; false when the primary went away meanwhile or kept
   * answering a transient error. A batch goes in one call (`journal_apply`); should the primary
   * refuse the batch as a whole (a statement timeout, a primary without that function), the batch
   * is replayed one entry per call instead.
   */
  private async replayPending(db: Db): Promise<boolean> {
    let transientInARow = 0;
    for (;;) {
      const entries = await db.rpc<JournalEntry[]>('journal_pending', { limit: this.replayBatch });
      if (entries.length === 0) return true;
      let outcome: ApplyOutcome;
      try {
        const applied = await this.onPrimary(() => this.primary.rpc<ApplyOutcome>('journal_apply', { entries }));
        if (!applied.ok) return this.replayLost(applied.error);
        outcome = applied.value;
      } catch (error) {
        if (isConnectionError(error)) return this.replayLost(error as DbError);
        this.log.warn(`batch replay refused (${(error as Error).message}): replaying one entry per call`);
        outcome = await this.applyOneByOne(entries);
      }
      for (const f of outcome.failed) {
        const fn = entries.find((e) => e.seq === f.seq)?.fn;
        this.log.error(`journal entry ${f.seq} (${fn}) refused by the primary, set aside: ${f.code}: ${f.error}`);
      }
      await db.rpc('journal_mark', {
        replayed: outcome.applied,
        failed: outcome.failed.map((f) => ({ seq: f.seq, error: `${f.code}: ${f.error}` })),
      });
      if (outcome.lost) return this.replayLost(outcome.lost);
      if (outcome.stopped) {
        // A deadlock or lock timeout against live traffic: try again at once, a few times.
        if (++transientInARow > MAX_TRANSIENT_RETRIES) {
          this.lastError = `${outcome.stopped.code}: ${outcome.stopped.error}`;
          this.log.warn(`replay paused at entry ${outcome.stopped.seq} until the next probe: ${this.lastError}`);
          return false;
        }
      } else {
        transientInARow = 0;
      }
    }
  }

  /** The per-entry path of replayPending, with journal_apply's outcome shape. */
  private async applyOneByOne(entries: JournalEntry[]): Promise<ApplyOutcome> {
    const outcome: ApplyOutcome = { applied: [], failed: [], stopped: null };
    for (const entry of entries) {
      try {
        // `replayedFrom` tells the function this write was accepted already (limits count it
        // without refusing it); functions that do not know the key ignore it.
        const applied = await this.onPrimary(() => this.primary.rpc(entry.fn, { ...entry.args, replayedFrom: entry.seq }));
        if (!applied.ok) return { ...outcome, lost: applied.error };
        outcome.applied.push(entry.seq);
      } catch (error) {
        if (isConnectionError(error)) return { ...outcome, lost: error as DbError };
        const e = error as Error;
        const code = e instanceof DbError ? e.code : 'XX000';
        if (isTransientError(error)) return { ...outcome, stopped: { seq: entry.seq, code, error: e.message } };
        outcome.failed.push({ seq: entry.seq, code, error: e.message });
      }
    }
    return outcome;
  }

  private replayLost(error: DbError): false {
    this.lastError = error.message;
    this.log.warn(`replay paused: primary unreachable again (${error.message})`);
    return false;
  }

  private async replayAndSwitch(): Promise<boolean> {
    if (this.mode === 'primary' || this.closed) return this.mode === 'primary';
    try {
      await this.probe();
    } catch (error) {
      this.lastError = (error as Error).message;
      return false;
    }
    const { db } = await this.fallbackDb();
    const started = Date.now();
    if (!(await this.replayPending(db))) return false;
    // The last stretch: hold new calls, let the ones on the fallback finish, replay what they wrote.
    let open!: () => void;
    this.gate = new Promise((resolve) => (open = resolve));
    try {
      if (this.inFlightOnFallback > 0) await new Promise<void>((resolve) => (this.fallbackIdle = resolve));
      this.fallbackIdle = undefined;
      if (!(await this.replayPending(db))) return false;
      const status = await db.rpc<JournalStatus>('journal_status');
      this.mode = 'primary';
      this.generationCounter++;
      this.log.info(
        `primary ${this.kind} is back after ${((Date.now() - (this.since?.getTime() ?? started)) / 1000).toFixed(1)} s: ` +
          `journal replayed in ${Date.now() - started} ms (${status.replayed} replayed, ${status.failed} set aside); serving from the primary`,
      );
      this.since = null;
      this.lastError = null;
      return true;
    } finally {
      open();
    }
  }

  /**
   * Refresh the fallback's copy of the customers from the primary (done at start and by every probe
   * tick while the primary is up; a customer created since then is missing from the copy until the
   * next tick).
   */
  async refreshCustomerCopy(): Promise<void> {
    try {
      const listed = await this.onPrimary(() => this.primary.rpc<object[]>('customers_list'));
      if (!listed.ok) {
        if (this.mode === 'primary') await this.enterFallback(listed.error);
        return;
      }
      await (await this.fallbackDb()).db.rpc('customers_mirror', { customers: listed.value });
    } catch (error) {
      this.log.warn(`customer copy for the fallback not refreshed: ${(error as Error).message}`);
    }
  }
}

/**
 * The serving state of any `Db`: a FallbackDb's own, or that of a plain backend (always its own
 * primary, generation 0).
 */
export async function servingStatus(db: Db): Promise<ServingStatus> {
  if (db.servingStatus) return db.servingStatus();
  return {
    primary: db.kind,
    fallbackActive: false,
    since: null,
    journalPending: 0,
    journalFailed: 0,
    lastError: null,
    generation: 0,
  };
}
