import type { Metadata } from 'next';
import Link from 'next/link';
import { getConfig } from '@/lib/config';
import { PLANS } from '@/lib/customers';
import { listCustomers } from '@/lib/dashboard';
import { resolveDb } from '@/lib/db/resolve';
import { CustomerForm } from '../_components/actions';

export const metadata: Metadata = { title: 'Customers' };

export default async function CustomersPage() {
  const customers = await listCustomers(await resolveDb(getConfig()));
  return (
    <>
      <h1>Customers</h1>
      {customers.length === 0 ? (
        <p className="muted">No customers yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Plan</th>
                <th scope="col">Allowed origins</th>
                <th scope="col">Retention</th>
              </tr>
            </thead>
            <tbody>
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
            </tbody>
          </table>
        </div>
      )}
      <section aria-labelledby="new">
        <h2 id="new">New customer</h2>
        <CustomerForm plans={PLANS} />
      </section>
    </>
  );
}
