import type { Metadata } from 'next';
import Link from 'next/link';
import { staffPage } from '@/lib/auth/page';
import { QUEUE_STATUSES, listQueue, queueQuerySchema } from '@/lib/dashboard';
import { queueStats } from '@/lib/queue';
import { ActionButton } from '../_components/actions';
import { CustomerPicker } from '../_components/customer-picker';
import { Pager } from '../_components/pager';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Queue' };

const LIMIT = 50;

// A staff member sees one of their customers' queue at a time; an administrator sees all of it.
export default staffPage({ path: '/dashboard/queue', customer: 'optional' }, async ({ staff, db, searchParams: params, customerId }) => {
  const parsed = queueQuerySchema.safeParse({ status: params.status || undefined, offset: params.offset, limit: LIMIT });
  const query = { ...(parsed.success ? parsed.data : queueQuerySchema.parse({ limit: LIMIT })), customerId: customerId ?? undefined };
  const [{ messages, total }, depth] =
    customerId === null
      ? [{ messages: [], total: 0 }, { pending: 0, processing: 0, completed: 0, failed: 0 }]
      : await Promise.all([listQueue(db, query), queueStats(db, query.customerId)]);
  const href = (filters: { status?: string; offset?: number }) => {
    const next = new URLSearchParams();
    if (staff.kind === 'member' && customerId) next.set('customer', customerId);
    if (filters.status) next.set('status', filters.status);
    if (filters.offset) next.set('offset', String(filters.offset));
    return `/dashboard/queue?${next}`;
  };
  return (
    <>
      <h1>Queue</h1>
      <p className="muted">
        Every visitor message passes through <code>message_queue</code>: pending until processed, completed once delivered (kept 24 h),
        failed after 5 attempts (dead letter) until retried.
      </p>
      {staff.kind === 'member' && staff.memberships.length > 1 && (
        <form className="filters" action="/dashboard/queue">
          <CustomerPicker staff={staff} selected={customerId} />
          <button type="submit">Show</button>
        </form>
      )}
      <nav aria-label="Filter by status" className="chips">
        <Link href={href({})} aria-current={!query.status ? 'page' : undefined}>
          all ({depth.pending + depth.processing + depth.completed + depth.failed})
        </Link>
        {QUEUE_STATUSES.map((s) => (
          <Link key={s} href={href({ status: s })} aria-current={query.status === s ? 'page' : undefined}>
            {s} ({depth[s]})
          </Link>
        ))}
      </nav>
      {/* Purging is housekeeping of every customer's queue: administrators only. */}
      {staff.kind === 'admin' && (
        <p>
          <ActionButton url="/api/admin/queue/purge" label="Purge expired" success="Expired messages purged." />
        </p>
      )}
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
                      <ActionButton url="/api/admin/queue/retry" body={{ ids: [m.id], customerId: m.customerId }} label="Retry" success="Queued again." />
                    )}
                  </td>
                </tr>
              ))}
            </Table>
      )}
      <Pager total={total} limit={LIMIT} offset={query.offset} href={(offset) => href({ status: query.status, offset })} />
    </>
  );
});
