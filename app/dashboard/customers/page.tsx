import type { Metadata } from 'next';
import Link from 'next/link';
import { requireStaffPage } from '@/lib/auth/current-staff';
import { staffDb, visibleCustomers } from '@/lib/auth/staff';
import { getConfig } from '@/lib/config';
import { PLANS, listCustomers } from '@/lib/customers';
import { CustomerForm } from '../_components/actions';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Customers' };

export default async function CustomersPage() {
  const staff = await requireStaffPage('/dashboard/customers');
  const all = await listCustomers(await staffDb(getConfig(), staff));
  const customers = visibleCustomers(staff, all);
  return (
    <>
      <h1>Customers</h1>
      {customers.length === 0 ? (
        <p className="muted">{staff.kind === 'admin' ? 'No customers yet.' : 'None of your customers yet.'}</p>
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
      {staff.kind === 'admin' && (
        <section aria-labelledby="new">
          <h2 id="new">New customer</h2>
          <CustomerForm plans={PLANS} />
        </section>
      )}
    </>
  );
}
