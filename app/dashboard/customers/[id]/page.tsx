import type { Metadata } from 'next';
import { headers } from 'next/headers';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { z } from 'zod';
import { canManageCustomer } from '@/lib/auth/access';
import { staffPage } from '@/lib/auth/page';
import { MEMBER_ROLES, supabaseAuthEnabled } from '@/lib/auth/staff';
import { listMembers } from '@/lib/auth/members';
import { resolveDb } from '@/lib/db/resolve';
import { getConfig } from '@/lib/config';
import { PLANS, getCustomer, newPublicKey } from '@/lib/customers';
import { ActionButton, AddMemberForm, CopyButton, CustomerForm, ExportButton } from '../../_components/actions';
import { Table } from '../../_components/table';
import { requestOrigin } from '@/lib/http';
import { embedSnippet } from '@/lib/widget';

export const metadata: Metadata = { title: 'Customer' };

export default staffPage({ path: '/dashboard/customers/[id]', customer: 'required', params: z.object({ id: z.guid() }) }, async ({ config, staff, db, params }) => {
  const customer = await getCustomer(db, params.id);
  if (!customer) notFound();
  const manages = canManageCustomer(staff, customer.id);
  const h = await headers();
  const origin = requestOrigin(h, 'http://localhost');
  const snippet = embedSnippet(origin, customer.publicKey);
  return (
    <>
      <p>
        <Link href="/dashboard/customers">← Customers</Link>
      </p>
      <h1>{customer.name}</h1>
      <section aria-labelledby="embed">
        <h2 id="embed">Embed the widget</h2>
        <p>Paste this into every page of the customer&apos;s site (allowed origins only):</p>
        <pre className="snippet">
          <code aria-label="Embed snippet">{snippet}</code>
        </pre>
        <p className="actions">
          <CopyButton text={snippet} label="Copy snippet" />
          <Link href={`/demo?key=${customer.publicKey}`}>Try it on the demo page</Link>
          {staff.kind === 'admin' && <ExportButton customerId={customer.id} />}
        </p>
        <p>
          Public key <code data-testid="public-key">{customer.publicKey}</code>.{' '}
          {/* The new key is chosen here, so a repeated click sets the same key. Administrators only,
              as in the RLS grants: staff never change the widget key. */}
          {staff.kind === 'admin' && (
            <ActionButton
              url={`/api/admin/customers/${customer.id}/rotate-key`}
              body={{ publicKey: newPublicKey() }}
              label="Rotate key"
              success="Key rotated: update the snippet on the site."
            />
          )}
        </p>
      </section>
      <section aria-labelledby="settings">
        <h2 id="settings">Settings</h2>
        {manages ? (
          <CustomerForm customer={customer} plans={PLANS} canChangePlan={staff.kind === 'admin'} />
        ) : (
          <>
            <dl className="facts">
              <dt>Allowed origins</dt>
              <dd>{customer.allowedOrigins.join(', ') || '—'}</dd>
              <dt>Plan</dt>
              <dd>{customer.plan}</dd>
              <dt>Retention</dt>
              <dd>{customer.retentionDays} days</dd>
            </dl>
            <p className="muted">The customer’s owners and admins change its settings.</p>
          </>
        )}
      </section>
      {manages && supabaseAuthEnabled(config) && <StaffMembers customerId={customer.id} />}
    </>
  );
});

/** Who may sign in to this customer's dashboard (Supabase Auth accounts in `customer_members`). */
async function StaffMembers({ customerId }: { customerId: string }) {
  const config = getConfig();
  const members = await listMembers(await resolveDb(config), config, customerId);
  return (
    <section aria-labelledby="staff">
      <h2 id="staff">Staff members</h2>
      <p className="muted">
        They sign in at <code>/login</code> with their Supabase Auth account and see this customer only. Create the account in Supabase
        (Authentication → Users) first.
      </p>
      {members.length === 0 ? (
        <p className="muted">No staff members yet.</p>
      ) : (
        <Table label="Staff members" headers={['E-mail', 'Role', 'Added', <span key="actions" className="visually-hidden">Actions</span>]}>
          {members.map((m) => (
            <tr key={m.userId}>
              <td>{m.email ?? `${m.userId} (account deleted)`}</td>
              <td>{m.role}</td>
              <td>{new Date(m.createdAt).toISOString().slice(0, 10)}</td>
              <td>
                <ActionButton url={`/api/admin/customers/${customerId}/members/${m.userId}`} method="DELETE" label="Remove" success="Removed." />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <AddMemberForm customerId={customerId} roles={MEMBER_ROLES} />
    </section>
  );
}
