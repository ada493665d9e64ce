'use client';

/**
 * The chat UI inside the widget iframe. Every message goes through the PersistentMessageQueue:
 * stored durably first, shown as queued, replayed in order until the server acknowledges it.
 * Replies arrive by polling (every 2.5 s while visible): it works through every proxy and within
 * serverless function limits, and a missed poll loses nothing — the next one asks for everything
 * after the last position it has.
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { openOutboxStore, type OutboxStore } from '@/lib/chat-widget/storage/outbox-store';
import { DEFAULT_BACKOFF, PersistentMessageQueue, type OutboxEntry } from '@/lib/chat-widget/storage/persistent-message-queue';
import { WidgetApiError, createWidgetApi, type WidgetApi } from '@/lib/chat-widget/transport';
import type { WidgetMessage, WidgetSessionState } from '@/lib/widget';

type Phase = 'starting' | 'ready' | 'not-allowed' | 'unavailable';
export type DisplayState = 'sending' | 'queued offline' | 'sent' | 'failed — retry';

interface DisplayItem {
  key: string;
  role: WidgetMessage['role'];
  text: string;
  state?: DisplayState;
  error?: string;
}

const POLL_MS = 2500;

function subscribeOnline(notify: () => void): () => void {
  window.addEventListener('online', notify);
  window.addEventListener('offline', notify);
  return () => {
    window.removeEventListener('online', notify);
    window.removeEventListener('offline', notify);
  };
}

/** The origin of the page embedding this iframe (our own when opened directly). */
function hostOrigin(): string | null {
  if (window.top === window) return window.location.origin;
  const ancestors = window.location.ancestorOrigins;
  if (ancestors && ancestors.length > 0) return ancestors[0]!;
  try {
    return document.referrer ? new URL(document.referrer).origin : null;
  } catch {
    return null;
  }
}

/**
 * The visitor's session id for this widget: created in the browser (so it exists even offline) and
 * kept in the outbox's store, so a crash cannot separate queued messages from their session.
 */
async function sessionIdFor(store: OutboxStore, key: string): Promise<string> {
  const storageKey = `omniops:session:v1:${key}`;
  const existing = await store.get(storageKey);
  if (existing && /^[A-Za-z0-9_-]{8,128}$/.test(existing)) return existing;
  const created = crypto.randomUUID().replaceAll('-', '');
  await store.put(storageKey, created, { strict: true });
  return created;
}

export function ChatWidget({ widgetKey }: { widgetKey: string }) {
  const [phase, setPhase] = useState<Phase>('starting');
  const [problem, setProblem] = useState<string>('');
  const [title, setTitle] = useState('Chat');
  const online = useSyncExternalStore(
    subscribeOnline,
    () => navigator.onLine,
    () => true,
  );
  const [conversation, setConversation] = useState<WidgetMessage[]>([]);
  const [outbox, setOutbox] = useState<OutboxEntry[]>([]);
  /** Acknowledged by the server, not yet seen in a poll: text by key. */
  const [acknowledged, setAcknowledged] = useState<Map<string, string>>(new Map());
  const [storageKind, setStorageKind] = useState<string>('local');
  const [draft, setDraft] = useState('');
  const queueRef = useRef<PersistentMessageQueue | null>(null);
  const apiRef = useRef<WidgetApi | null>(null);
  const sessionRef = useRef<string>('');
  const lastPosition = useRef(0);
  const generation = useRef<number | null>(null);
  const listRef = useRef<HTMLOListElement>(null);
  const restTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  /**
   * Take a server answer in. Returns false when the server switched databases (its `generation`
   * changed) since the last answer: positions are then not comparable, so the caller reads the
   * conversation again from position 0 and that answer replaces what is shown.
   */
  const merge = useCallback((state: Pick<WidgetSessionState, 'messages' | 'generation'>, replace = false): boolean => {
    if (!replace && generation.current !== null && state.generation !== generation.current) return false;
    generation.current = state.generation;
    if (replace) lastPosition.current = 0;
    lastPosition.current = Math.max(lastPosition.current, ...state.messages.map((m) => m.position));
    setConversation((current) => {
      const base = replace ? [] : current;
      const known = new Set(base.map((m) => m.position));
      return [...base, ...state.messages.filter((m) => !known.has(m.position))].sort((a, b) => a.position - b.position);
    });
    return true;
  }, []);

  const replay = useCallback(() => {
    const queue = queueRef.current;
    const api = apiRef.current;
    if (!queue || !api) return;
    clearTimeout(restTimer.current);
    void queue.replayWithPersistence((messages) => api.send(sessionRef.current, messages)).then((report) => {
      // A round that used up its attempts shows the messages as failed (the visitor may retry at
      // once), and the widget tries them again on its own after a rest, for as long as it is open.
      if (report.stoppedBecause !== 'gave-up' || queueRef.current !== queue) return;
      restTimer.current = setTimeout(() => {
        void queue.retry().then(() => replayRef.current());
      }, DEFAULT_BACKOFF.maxMs);
    });
  }, []);
  const replayRef = useRef(replay);

  useEffect(() => {
    let stopped = false;
    let queue: PersistentMessageQueue | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;
    const api = createWidgetApi({ baseUrl: window.location.origin, key: widgetKey, hostOrigin: hostOrigin() });
    apiRef.current = api;

    const startSession = async () => {
      try {
        const state = await api.session<WidgetSessionState & { customer: { name: string } }>(sessionRef.current);
        if (stopped) return;
        setTitle(state.customer.name);
        merge(state, true); // the whole conversation, from position 0
      } catch (error) {
        if (stopped) return;
        if (error instanceof WidgetApiError && error.status === 403) {
          setProblem(error.message);
          setPhase('not-allowed');
          queue?.stop();
          return;
        }
        // Offline or the server is down: the outbox still takes messages.
      }
      replay();
    };
    const onOnline = () => {
      queue?.wake();
      replay();
      void startSession();
    };

    void (async () => {
      const store = await openOutboxStore();
      const sessionId = await sessionIdFor(store, widgetKey);
      if (stopped) return;
      sessionRef.current = sessionId;
      const q: PersistentMessageQueue = new PersistentMessageQueue({
        enablePersistence: true,
        store,
        // The public key namespaces the outbox: the widget never learns the customer's id.
        customerId: widgetKey,
        sessionId,
        onChange: (entries) => {
          setOutbox(entries);
          setStorageKind(q.storageKind);
        },
        onAcknowledged: (messages) =>
          setAcknowledged((current) => new Map([...current, ...messages.map((m) => [m.key, m.value] as const)])),
      });
      queue = q;
      queueRef.current = q;
      await q.loadPersistedMessages(); // reports the outbox (and storage kind) through onChange
      if (stopped) return;
      setPhase('ready');
      window.addEventListener('online', onOnline);
      poll = setInterval(async () => {
        if (document.visibilityState !== 'visible' || !navigator.onLine) return;
        try {
          if (!merge(await api.poll<WidgetSessionState>(sessionId, lastPosition.current))) {
            merge(await api.poll<WidgetSessionState>(sessionId, 0), true);
          }
        } catch {
          // The next poll asks again from the same position.
        }
      }, POLL_MS);
      await startSession();
    })();

    return () => {
      stopped = true;
      clearInterval(poll);
      window.removeEventListener('online', onOnline);
      clearTimeout(restTimer.current);
      queue?.stop();
    };
  }, [widgetKey, merge, replay]);

  useEffect(() => {
    listRef.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [conversation, outbox]);

  const items = useMemo<DisplayItem[]>(() => {
    const onServer = new Set(conversation.map((m) => m.clientMessageId));
    const shown: DisplayItem[] = conversation.map((m) => ({
      key: `p${m.position}`,
      role: m.role,
      text: m.content,
      state: m.role === 'visitor' ? 'sent' : undefined,
    }));
    for (const [key, text] of acknowledged) {
      if (!onServer.has(key)) shown.push({ key, role: 'visitor', text, state: 'sent' });
    }
    for (const entry of outbox) {
      if (onServer.has(entry.message.key) || acknowledged.has(entry.message.key)) continue;
      const state: DisplayState =
        entry.status === 'failed' || entry.status === 'rejected'
          ? 'failed — retry'
          : !online
            ? 'queued offline'
            : 'sending';
      shown.push({ key: entry.message.key, role: 'visitor', text: entry.message.value, state, error: entry.error });
    }
    return shown;
  }, [conversation, acknowledged, outbox, online]);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    const queue = queueRef.current;
    if (!text || !queue) return;
    setDraft('');
    await queue.enqueue({ type: 'chat', key: crypto.randomUUID(), value: text, timestamp: Date.now() });
    queue.wake();
    replay();
  };

  const retry = async (key: string) => {
    await queueRef.current?.retry([key]);
    replay();
  };

  if (phase === 'not-allowed') {
    return (
      <main className="widget">
        <p role="alert" className="widget-blocked">
          This chat widget is not allowed on this site. ({problem})
        </p>
      </main>
    );
  }

  return (
    <main className="widget" aria-busy={phase === 'starting'}>
      <header className="widget-header">
        <h1>{title}</h1>
        {!online && <span className="widget-offline">offline — messages are kept and sent when you reconnect</span>}
      </header>
      {phase === 'ready' && storageKind === 'memory' && (
        <p role="status" className="widget-warning">
          Your browser is not letting this chat store messages: anything not yet sent is lost if you reload.
        </p>
      )}
      <ol ref={listRef} className="widget-messages" aria-label="Conversation" aria-live="polite">
        {items.length === 0 && <li className="widget-empty">Ask us anything — we usually reply within minutes.</li>}
        {items.map((item) => (
          <li key={item.key} className={`widget-message widget-${item.role}`} data-state={item.state}>
            <span className="widget-text">{item.text}</span>
            {item.state && (
              <span className="widget-state" title={item.error}>
                {item.state === 'failed — retry' ? (
                  <button type="button" onClick={() => void retry(item.key)}>
                    failed — retry
                  </button>
                ) : (
                  item.state
                )}
              </span>
            )}
          </li>
        ))}
      </ol>
      <form className="widget-form" onSubmit={send}>
        <label htmlFor="omniops-message" className="visually-hidden">
          Message
        </label>
        <input
          id="omniops-message"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          maxLength={4000}
          autoComplete="off"
          placeholder="Type a message…"
        />
        <button type="submit" disabled={phase !== 'ready' || draft.trim() === ''}>
          Send
        </button>
      </form>
    </main>
  );
}
