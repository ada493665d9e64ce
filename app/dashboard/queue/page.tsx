import type { Metadata } from 'next';
import Link from 'next/link';
import { getConfig } from '@/lib/config';
import { QUEUE_STATUSES, listQueue, queueQuerySchema } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { queueStats } from '@/lib/queue';
import { ActionButton } from '../_components/actions';
import { Pager } from '../_components/pager';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Queue' };

const LIMIT = 50;

export default async function QueuePage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const params = await searchParams;
  const parsed = queueQuerySchema.safeParse({ status: params.status || undefined, offset: params.offset, limit: LIMIT });
  const query = parsed.success ? parsed.data : queueQuerySchema.parse({ limit: LIMIT });
  const db = await resolveDb(getConfig());
  const [{ messages, total }, depth] = await Promise.all([listQueue(db, query), queueStats(db)]);
  const href = (offset: number) => `/dashboard/queue?${new URLSearchParams({ ...(query.status ? { status: query.status } : {}), ...(offset ? { offset: String(offset) } : {}) })}`;
  return (
    <>
      <h1>Queue</h1>
      <p className="muted">
        Every visitor message passes through <code>message_queue</code>: pending until processed, completed once delivered (kept 24 h),
        failed after 5 attempts (dead letter) until retried.
      </p>
      <nav aria-label="Filter by status" className="chips">
        <Link href="/dashboard/queue" aria-current={!query.status ? 'page' : undefined}>
          all ({depth.pending + depth.processing + depth.completed + depth.failed})
        </Link>
        {QUEUE_STATUSES.map((s) => (
          <Link key={s} href={`/dashboard/queue?status=${s}`} aria-current={query.status === s ? 'page' : undefined}>
            {s} ({depth[s]})
          </Link>
        ))}
      </nav>
      <p>
        <ActionButton url="/api/admin/queue/purge" label="Purge expired" success="Expired messages purged." />
      </p>
      {messages.length === 0 ? (
        <p className="muted">{query.status ? `No ${query.status} messages.` : 'The queue is empty.'}</p>
      ) : (
        <Table headers={['Message', 'Status', 'Attempts', 'Last error', 'Queued', <span key="actions" className="visually-hidden">Actions</span>]}>
              {messages.map((m) => (
                <tr key={m.id} data-status={m.status}>
                  <td>{String((m.data as { text?: unknown }).text ?? '')}</td>
                  <td className={m.status === 'failed' ? 'status-bad' : undefined}>{m.status}</td>
                  <td>{m.retryCount}</td>
                  <td>{m.lastError ?? ''}</td>
                  <td>{new Date(m.createdAt).toISOString().replace('T', ' ').slice(0, 16)}</td>
                  <td>
                    {m.status === 'failed' && (
                      <ActionButton url="/api/admin/queue/retry" body={{ ids: [m.id] }} label="Retry" success="Queued again." />
                    )}
                  </td>
                </tr>
              ))}
            </Table>
      )}
      <Pager total={total} limit={LIMIT} offset={query.offset} href={href} />
    </>
  );
}
