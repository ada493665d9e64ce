import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { z } from 'zod';
import { canSeeCustomer } from '@/lib/auth/access';
import { staffPage } from '@/lib/auth/page';
import { getConversation } from '@/lib/dashboard';
import { ReplyForm } from '../../_components/actions';

export const metadata: Metadata = { title: 'Conversation' };

const ROLE_LABEL: Record<string, string> = { visitor: 'Visitor', bot: 'Bot', staff: 'Staff', system: 'System' };

export default staffPage({ path: '/dashboard/conversations/[id]', customer: 'resource', params: z.object({ id: z.guid() }) }, async ({ staff, db, params }) => {
  const thread = await getConversation(db, params.id);
  // Another customer's conversation is as absent as a missing one: its existence is not disclosed.
  if (!thread || !canSeeCustomer(staff, thread.conversation.customerId)) notFound();
  const { conversation, messages } = thread;
  return (
    <>
      <p>
        <Link href="/dashboard/conversations">← Conversations</Link>
      </p>
      <h1>Conversation with session {conversation.sessionId}</h1>
      <p className="muted">
        {conversation.customerName} · <span className={conversation.status === 'needs_staff' ? 'status-bad' : undefined}>{conversation.status.replace('_', ' ')}</span>
      </p>
      {messages.length === 0 ? (
        <p className="muted">No messages yet.</p>
      ) : (
        <ol className="thread" aria-label="Messages">
          {messages.map((m) => (
            <li key={m.id} className={`thread-message thread-${m.role}`}>
              <span className="thread-role">{ROLE_LABEL[m.role] ?? m.role}</span>
              <p>{m.content}</p>
              <time dateTime={m.createdAt}>{new Date(m.createdAt).toISOString().replace('T', ' ').slice(0, 19)}</time>
            </li>
          ))}
        </ol>
      )}
      <ReplyForm conversationId={conversation.id} />
    </>
  );
});
