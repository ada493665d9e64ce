import type { Metadata } from 'next';
import Link from 'next/link';
import { staffPage } from '@/lib/auth/page';
import { CONVERSATION_STATUSES, conversationQuerySchema, listConversations } from '@/lib/dashboard';
import { CustomerPicker } from '../_components/customer-picker';
import { Pager } from '../_components/pager';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Conversations' };

const LIMIT = 20;

// A staff member sees one of their customers at a time; an administrator sees every customer's.
export default staffPage({ path: '/dashboard/conversations', customer: 'optional' }, async ({ staff, db, searchParams: params, customerId }) => {
  const parsed = conversationQuerySchema.safeParse({ search: params.q || undefined, status: params.status || undefined, offset: params.offset, limit: LIMIT });
  const query = { ...(parsed.success ? parsed.data : conversationQuerySchema.parse({ limit: LIMIT })), customerId: customerId ?? undefined };
  const { conversations, total } =
    customerId === null ? { conversations: [], total: 0 } : await listConversations(db, query);
  const href = (offset: number) => {
    const next = new URLSearchParams();
    if (staff.kind === 'member' && customerId) next.set('customer', customerId);
    if (query.search) next.set('q', query.search);
    if (query.status) next.set('status', query.status);
    if (offset) next.set('offset', String(offset));
    return `/dashboard/conversations?${next}`;
  };
  return (
    <>
      <h1>Conversations</h1>
      <form className="filters" role="search" action="/dashboard/conversations">
        <CustomerPicker staff={staff} selected={customerId} />
        <label htmlFor="q">Search messages</label>
        <input id="q" name="q" type="search" defaultValue={query.search ?? ''} placeholder="Text or session id" />
        <label htmlFor="status">Status</label>
        <select id="status" name="status" defaultValue={query.status ?? ''}>
          <option value="">any</option>
          {CONVERSATION_STATUSES.map((s) => (
            <option key={s} value={s}>
              {s.replace('_', ' ')}
            </option>
          ))}
        </select>
        <button type="submit">Search</button>
      </form>
      {!parsed.success && <p role="alert" className="status-bad">Those filters are not valid; showing all conversations.</p>}
      {conversations.length === 0 ? (
        <p className="muted">{query.search || query.status ? 'No conversation matches.' : 'No conversations yet: they appear when a visitor writes in the widget.'}</p>
      ) : (
        <Table headers={['Last message', 'Customer', 'Status', 'Messages', 'Active']}>
              {conversations.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link href={`/dashboard/conversations/${c.id}`}>{c.lastMessage ? c.lastMessage.content : `Session ${c.sessionId}`}</Link>
                  </td>
                  <td>{c.customerName}</td>
                  <td className={c.status === 'needs_staff' ? 'status-bad' : undefined}>{c.status.replace('_', ' ')}</td>
                  <td>{c.messageCount}</td>
                  <td>{new Date(c.lastMessageAt).toISOString().replace('T', ' ').slice(0, 16)}</td>
                </tr>
              ))}
            </Table>
      )}
      <Pager total={total} limit={LIMIT} offset={query.offset} href={href} />
    </>
  );
});
