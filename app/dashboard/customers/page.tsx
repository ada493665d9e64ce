import type { Metadata } from 'next';
import Link from 'next/link';
import { visibleCustomers } from '@/lib/auth/access';
import { staffPage } from '@/lib/auth/page';
import { PLANS, listCustomers } from '@/lib/customers';
import { CustomerForm } from '../_components/actions';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Customers' };

export default staffPage({ path: '/dashboard/customers', customer: 'none' }, async ({ staff, db }) => {
  const all = await listCustomers(db);
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
});
