import type { Metadata } from 'next';
import Link from 'next/link';
import { getConfig } from '@/lib/config';
import { PLANS } from '@/lib/customers';
import { listCustomers } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { CustomerForm } from '../_components/actions';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Customers' };

export default async function CustomersPage() {
  const customers = await listCustomers(await resolveDb(getConfig()));
  return (
    <>
      <h1>Customers</h1>
      {customers.length === 0 ? (
        <p className="muted">No customers yet.</p>
      ) : (
        <Table headers={['Name', 'Plan', 'Allowed origins', 'Retention']}>
              {customers.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link href={`/dashboard/customers/${c.id}`}>{c.name}</Link>
                  </td>
                  <td>{c.plan}</td>
                  <td>{c.allowedOrigins.join(', ') || '—'}</td>
                  <td>{c.retentionDays} days</td>
                </tr>
              ))}
            </Table>
      )}
      <section aria-labelledby="new">
        <h2 id="new">New customer</h2>
        <CustomerForm plans={PLANS} />
      </section>
    </>
  );
}
