'use client';
/**
 * The dashboard's interactive pieces: each sends JSON to an admin API, shows a failure as a message
 * (never a blank page), and refreshes the server-rendered page on success. Writes carry a
 * client-chosen key (reply id, job id, customer id, new widget key), so a double submit is harmless.
 */
import { useRouter } from 'next/navigation';
import { useId, useState, useSyncExternalStore, type FormEvent, type ReactNode } from 'react';
import { safeLocalStorage } from '@/lib/utils/storage';

async function send(url: string, method: string, body: unknown): Promise<{ ok: true; data: unknown } | { ok: false; error: string }> {
  try {
    const response = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data: unknown = await response.json().catch(() => null);
    if (response.ok) return { ok: true, data };
    if (response.status === 401) return { ok: false, error: 'Your session has ended: sign in again.' };
    const message = (data as { error?: { message?: string } } | null)?.error?.message;
    return { ok: false, error: message ?? `The server answered ${response.status}.` };
  } catch {
    return { ok: false, error: 'The server could not be reached. Check the connection and try again.' };
  }
}

function useSubmit() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (url: string, method: string, body: unknown, success: string, after?: (data: unknown) => void) => {
    setBusy(true);
    setError(null);
    setDone(null);
    const result = await send(url, method, body);
    setBusy(false);
    if (!result.ok) return setError(result.error);
    setDone(success);
    after?.(result.data);
    router.refresh();
  };
  const feedback: ReactNode = (
    <>
      {error && (
        <p role="alert" className="status-bad">
          {error}
        </p>
      )}
      {done && (
        <p role="status" className="status-ok">
          {done}
        </p>
      )}
    </>
  );
  return { busy, run, feedback };
}

const newKey = (prefix: string) => `${prefix}_${crypto.randomUUID()}`;

/** A button that sends `body` to `url` (POST unless `method` says otherwise). */
export function ActionButton({
  url,
  method = 'POST',
  body,
  label,
  success,
}: {
  url: string;
  method?: 'POST' | 'DELETE';
  body?: unknown;
  label: string;
  success: string;
}) {
  const { busy, run, feedback } = useSubmit();
  return (
    <span className="action">
      <button type="button" disabled={busy} onClick={() => void run(url, method, method === 'DELETE' ? undefined : (body ?? {}), success)}>
        {busy ? 'Working…' : label}
      </button>
      {feedback}
    </span>
  );
}

export function ReplyForm({ conversationId }: { conversationId: string }) {
  const { busy, run, feedback } = useSubmit();
  const [content, setContent] = useState('');
  // One id per reply being written: resending the same reply (a double click, a retry) adds nothing.
  const [replyId, setReplyId] = useState(() => newKey('staff'));
  const id = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(`/api/admin/conversations/${conversationId}/replies`, 'POST', { content, clientMessageId: replyId }, 'Reply sent.', () => {
      setContent('');
      setReplyId(newKey('staff'));
    });
  };
  return (
    <form onSubmit={submit} className="stack">
      <label htmlFor={id}>Reply to the visitor</label>
      <textarea id={id} value={content} onChange={(e) => setContent(e.target.value)} rows={3} required maxLength={10_000} />
      <button type="submit" disabled={busy || content.trim() === ''}>
        {busy ? 'Sending…' : 'Send reply'}
      </button>
      {feedback}
    </form>
  );
}

const SELECTED_CUSTOMER = 'omniops:dashboard:customer';

const subscribeStorage = (onChange: () => void) => {
  window.addEventListener('storage', onChange);
  return () => window.removeEventListener('storage', onChange);
};

/**
 * The customer last chosen in a form, a UI preference kept in safeLocalStorage. Read after
 * hydration (the server renders the first customer), so server and browser markup agree.
 */
function useRememberedCustomer(customers: { id: string }[]) {
  const stored = useSyncExternalStore(subscribeStorage, () => safeLocalStorage.getItem(SELECTED_CUSTOMER), () => null);
  const [chosen, setChosen] = useState<string | null>(null);
  const remembered = stored && customers.some((c) => c.id === stored) ? stored : null;
  const customerId = chosen ?? remembered ?? customers[0]?.id ?? '';
  const choose = (id: string) => {
    setChosen(id);
    safeLocalStorage.setItem(SELECTED_CUSTOMER, id);
  };
  return [customerId, choose] as const;
}

export function StartCrawlForm({ customers }: { customers: { id: string; name: string; allowedOrigins: string[] }[] }) {
  const { busy, run, feedback } = useSubmit();
  const [customerId, setCustomerId] = useRememberedCustomer(customers);
  const [startUrl, setStartUrl] = useState('');
  const [maxPages, setMaxPages] = useState(100);
  const [maxDepth, setMaxDepth] = useState(3);
  const [jobId, setJobId] = useState(() => newKey('crawl'));
  const ids = { customer: useId(), url: useId(), pages: useId(), depth: useId() };
  if (customers.length === 0) return <p>Create a customer first.</p>;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run('/api/admin/crawl-jobs', 'POST', { customerId, jobId, startUrl, maxPages, maxDepth }, 'Crawl started.', () =>
      setJobId(newKey('crawl')),
    );
  };
  return (
    <form onSubmit={submit} className="form-grid" aria-label="Start a crawl">
      <label htmlFor={ids.customer}>Customer</label>
      <select id={ids.customer} value={customerId} onChange={(e) => setCustomerId(e.target.value)}>
        {customers.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
      <label htmlFor={ids.url}>Start URL</label>
      <input id={ids.url} type="url" value={startUrl} onChange={(e) => setStartUrl(e.target.value)} required placeholder="https://shop.example/" />
      <label htmlFor={ids.pages}>Max pages</label>
      <input id={ids.pages} type="number" min={1} max={10_000} value={maxPages} onChange={(e) => setMaxPages(Number(e.target.value))} />
      <label htmlFor={ids.depth}>Max depth</label>
      <input id={ids.depth} type="number" min={0} max={20} value={maxDepth} onChange={(e) => setMaxDepth(Number(e.target.value))} />
      <span />
      <button type="submit" disabled={busy}>
        {busy ? 'Starting…' : 'Start crawl'}
      </button>
      <span />
      <div>{feedback}</div>
    </form>
  );
}

export interface CustomerFields {
  id?: string;
  name: string;
  allowedOrigins: string[];
  plan: string;
  retentionDays: number;
}

/** Create (no `customer.id`) or edit a customer. */
/** `canChangePlan` false: staff members (Supabase Auth) edit the settings but not the plan (an administrator's). */
export function CustomerForm({ customer, plans, canChangePlan = true }: { customer?: CustomerFields; plans: readonly string[]; canChangePlan?: boolean }) {
  const { busy, run, feedback } = useSubmit();
  const [name, setName] = useState(customer?.name ?? '');
  const [origins, setOrigins] = useState((customer?.allowedOrigins ?? []).join('\n'));
  const [plan, setPlan] = useState(customer?.plan ?? 'free');
  const [retentionDays, setRetentionDays] = useState(customer?.retentionDays ?? 90);
  const [newId, setNewId] = useState(() => crypto.randomUUID());
  const ids = { name: useId(), origins: useId(), plan: useId(), retention: useId() };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const fields = {
      name,
      allowedOrigins: origins.split(/[\s,]+/).filter(Boolean),
      ...(canChangePlan ? { plan } : {}),
      retentionDays,
    };
    if (customer?.id) {
      void run(`/api/admin/customers/${customer.id}`, 'PATCH', fields, 'Saved.');
    } else {
      void run('/api/admin/customers', 'POST', { ...fields, id: newId }, 'Customer created.', () => {
        setName('');
        setOrigins('');
        setNewId(crypto.randomUUID());
      });
    }
  };
  return (
    <form onSubmit={submit} className="form-grid" aria-label={customer?.id ? 'Edit customer' : 'New customer'}>
      <label htmlFor={ids.name}>Name</label>
      <input id={ids.name} value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
      <label htmlFor={ids.origins}>Allowed origins (one per line)</label>
      <textarea id={ids.origins} value={origins} onChange={(e) => setOrigins(e.target.value)} rows={3} placeholder="https://shop.example" />
      <label htmlFor={ids.plan}>Plan</label>
      <select id={ids.plan} value={plan} onChange={(e) => setPlan(e.target.value)} disabled={!canChangePlan}>
        {plans.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <label htmlFor={ids.retention}>Retention (days)</label>
      <input id={ids.retention} type="number" min={1} max={3650} value={retentionDays} onChange={(e) => setRetentionDays(Number(e.target.value))} />
      <span />
      <button type="submit" disabled={busy}>
        {busy ? 'Saving…' : customer?.id ? 'Save' : 'Create customer'}
      </button>
      <span />
      <div>{feedback}</div>
    </form>
  );
}

/** Add a staff member to a customer by e-mail (invited when the address has no Supabase Auth account). Adding someone twice changes nothing. */
export function AddMemberForm({ customerId, roles }: { customerId: string; roles: readonly string[] }) {
  const { busy, run, feedback } = useSubmit();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('agent');
  const ids = { email: useId(), role: useId() };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void run(`/api/admin/customers/${customerId}/members`, 'POST', { email, role }, 'Staff member added.', () => setEmail(''));
  };
  return (
    <form onSubmit={submit} className="form-grid" aria-label="Add a staff member">
      <label htmlFor={ids.email}>Staff e-mail</label>
      <input id={ids.email} type="email" value={email} onChange={(e) => setEmail(e.target.value)} required maxLength={320} autoComplete="off" />
      <label htmlFor={ids.role}>Role</label>
      <select id={ids.role} value={role} onChange={(e) => setRole(e.target.value)}>
        {roles.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <span />
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add staff member'}
      </button>
      <span />
      <div>{feedback}</div>
    </form>
  );
}

/**
 * Downloads a customer's export. The export is a POST with a JSON body (it counts against the plan,
 * so no plain link another site could trigger: app/api/admin/customers/[id]/export/route.ts), so
 * the file is fetched here and handed to the browser as a download under the server's file name.
 */
export function ExportButton({ customerId }: { customerId: string }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const download = async () => {
    setState({ busy: true, error: null });
    try {
      const response = await fetch(`/api/admin/customers/${customerId}/export`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      if (!response.ok) {
        const data = (await response.json().catch(() => null)) as { error?: { message?: string } } | null;
        return setState({ busy: false, error: data?.error?.message ?? `The server answered ${response.status}.` });
      }
      const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `omniops-${customerId}.ndjson`;
      const url = URL.createObjectURL(await response.blob());
      const link = document.createElement('a');
      link.href = url;
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setState({ busy: false, error: null });
    } catch {
      setState({ busy: false, error: 'The server could not be reached. Check the connection and try again.' });
    }
  };
  return (
    <span className="action">
      <button type="button" disabled={state.busy} onClick={() => void download()}>
        {state.busy ? 'Exporting…' : 'Download export'}
      </button>
      {state.error && (
        <span role="alert" className="status-bad">
          {state.error}
        </span>
      )}
    </span>
  );
}

/** Copies `text` to the clipboard, saying whether it worked. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <span className="action">
      <button
        type="button"
        onClick={() =>
          navigator.clipboard.writeText(text).then(
            () => setState('copied'),
            () => setState('failed'),
          )
        }
      >
        {label}
      </button>
      <span role="status">{state === 'copied' ? 'Copied.' : state === 'failed' ? 'Copy failed: select the text instead.' : ''}</span>
    </span>
  );
}
