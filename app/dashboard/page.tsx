import type { Metadata } from 'next';
import { StorageTiers } from '@/app/_components/storage-tiers';
import { visibleCustomerIds, visibleCustomers } from '@/lib/auth/access';
import { staffPage } from '@/lib/auth/page';
import { listCustomers } from '@/lib/customers';
import { scopedOverview } from '@/lib/dashboard';
import { getHealth } from '@/lib/health';
import { getUsage, type UsageCounter } from '@/lib/usage';
import { BarChart } from './_components/chart';
import { Table } from './_components/table';

export const metadata: Metadata = { title: 'Overview' };

const hour = (iso: string) => new Date(iso).toISOString().slice(11, 16);
const counter = (c: UsageCounter) => (c.limit === null ? `${c.used} (unlimited)` : `${c.used} / ${c.limit}`);

export default staffPage({ path: '/dashboard', customer: 'none' }, async ({ config, staff, db }) => {
  const scope = visibleCustomerIds(staff);
  const health = await getHealth(config);
  const [{ depth, activity }, allCustomers] = await Promise.all([scopedOverview(db, scope), listCustomers(db)]);
  const customers = visibleCustomers(staff, allCustomers);
  const usage = await Promise.all(customers.map(async (c) => ({ customer: c, usage: await getUsage(db, c.id) })));
  return (
    <>
      <h1>Overview</h1>
      <section aria-labelledby="tiers">
        <h2 id="tiers">Storage tiers</h2>
        <StorageTiers health={health} />
      </section>
      <section aria-labelledby="depth">
        <h2 id="depth">Queue depth</h2>
        <dl className="tiles" aria-label="Queue depth by status">
          {(['pending', 'processing', 'completed', 'failed'] as const).map((status) => (
            <div key={status} className="tile">
              <dt>{status}</dt>
              <dd className={status === 'failed' && depth[status] > 0 ? 'status-bad' : undefined}>{depth[status]}</dd>
            </div>
          ))}
        </dl>
      </section>
      <section aria-labelledby="activity" className="charts">
        <h2 id="activity">Activity</h2>
        <BarChart
          title="Messages per hour, last 24 hours (UTC)"
          unit="messages"
          points={activity.messagesPerHour.map((p) => ({ label: hour(p.at), count: p.count }))}
        />
        <BarChart
          title="Crawled pages per minute, last hour (UTC)"
          unit="pages"
          points={activity.crawlPagesPerMinute.map((p) => ({ label: hour(p.at), count: p.count }))}
        />
      </section>
      <section aria-labelledby="runs">
        <h2 id="runs">Last scheduled runs</h2>
        {activity.cleanupRuns.length === 0 ? (
          <p className="muted">No scheduled task has run yet.</p>
        ) : (
          <Table headers={['Task', 'Slot', 'Status', 'Rows', 'Error']}>
                {activity.cleanupRuns.map((run) => (
                  <tr key={run.id}>
                    <td>{run.task}</td>
                    <td>{new Date(run.scheduledFor).toISOString().replace('T', ' ').slice(0, 16)}</td>
                    <td className={run.status === 'failed' ? 'status-bad' : undefined}>{run.status}</td>
                    <td>{run.rowsAffected}</td>
                    <td>{run.error ?? ''}</td>
                  </tr>
                ))}
              </Table>
        )}
      </section>
      <section aria-labelledby="usage">
        <h2 id="usage">Usage this month</h2>
        {usage.length === 0 ? (
          <p className="muted">{staff.kind === 'admin' ? 'No customers yet.' : 'None of your customers yet.'}</p>
        ) : (
          <Table headers={['Customer', 'Plan', 'Messages', 'Crawls', 'Exports']}>
                {usage.map(({ customer, usage: u }) => (
                  <tr key={customer.id}>
                    <td>{customer.name}</td>
                    <td>{customer.plan}</td>
                    <td>{u ? counter(u.messages) : '—'}</td>
                    <td>{u ? counter(u.crawls) : '—'}</td>
                    <td>{u ? counter(u.exports) : '—'}</td>
                  </tr>
                ))}
              </Table>
        )}
      </section>
    </>
  );
});
