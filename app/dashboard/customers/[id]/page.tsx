import type { Metadata } from 'next';
import { headers } from 'next/headers';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { z } from 'zod';
import { requireStaffPage } from '@/lib/auth/current-staff';
import { canSeeCustomer, staffDb } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { PLANS, getCustomer, newPublicKey } from '@/lib/customers';
import { ActionButton, CopyButton, CustomerForm } from '../../_components/actions';
import { requestOrigin } from '@/lib/http';
import { embedSnippet } from '@/lib/widget';

export const metadata: Metadata = { title: 'Customer' };

export default async function CustomerPage({ params }: { params: Promise<{ id: string }> }) {
  const id = z.guid().safeParse((await params).id);
  if (!id.success) notFound();
  const staff = await requireStaffPage(`/dashboard/customers/${id.data}`);
  if (!canSeeCustomer(staff, id.data)) notFound();
  const customer = await getCustomer(await staffDb(getConfig(), staff), id.data);
  if (!customer) notFound();
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
          {staff.kind === 'admin' && <a href={`/api/admin/customers/${customer.id}/export`}>Download export</a>}
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
        <CustomerForm customer={customer} plans={PLANS} canChangePlan={staff.kind === 'admin'} />
      </section>
    </>
  );
}
