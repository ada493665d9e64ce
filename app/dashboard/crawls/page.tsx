import type { Metadata } from 'next';
import Link from 'next/link';
import { visibleCustomers } from '@/lib/auth/access';
import { staffPage } from '@/lib/auth/page';
import { listCustomers } from '@/lib/customers';
import { listJobsQuerySchema } from '@/lib/jobs';
import { getPersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import { StartCrawlForm } from '../_components/actions';
import { CustomerPicker } from '../_components/customer-picker';
import { Pager } from '../_components/pager';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Crawl jobs' };

const LIMIT = 20;

// A staff member sees one of their customers' crawls at a time; an administrator sees all.
export default staffPage({ path: '/dashboard/crawls', customer: 'optional' }, async ({ staff, db, searchParams: params, customerId }) => {
  const parsed = listJobsQuerySchema.safeParse({ status: params.status || undefined, offset: params.offset, limit: LIMIT });
  const query = { ...(parsed.success ? parsed.data : listJobsQuerySchema.parse({ limit: LIMIT })), customerId: customerId ?? undefined };
  const [{ jobs, total }, allCustomers] = await Promise.all([
    customerId === null ? { jobs: [], total: 0 } : getPersistentJobManager(db).then((manager) => manager.listJobs(query)),
    listCustomers(db),
  ]);
  const customers = visibleCustomers(staff, allCustomers);
  const names = new Map(customers.map((c) => [c.id, c.name]));
  const href = (offset: number) => {
    const next = new URLSearchParams({ offset: String(offset) });
    if (staff.kind === 'member' && customerId) next.set('customer', customerId);
    return `/dashboard/crawls?${next}`;
  };
  return (
    <>
      <h1>Crawl jobs</h1>
      <section aria-labelledby="start">
        <h2 id="start">Start a crawl</h2>
        <StartCrawlForm customers={customers.map(({ id, name, allowedOrigins }) => ({ id, name, allowedOrigins }))} />
      </section>
      <section aria-labelledby="jobs">
        <h2 id="jobs">Jobs</h2>
        {staff.kind === 'member' && staff.memberships.length > 1 && (
          <form className="filters" action="/dashboard/crawls">
            <CustomerPicker staff={staff} selected={customerId} />
            <button type="submit">Show</button>
          </form>
        )}
        {jobs.length === 0 ? (
          <p className="muted">No crawl jobs yet.</p>
        ) : (
          <Table headers={['Site', 'Customer', 'Status', 'Pages', 'OK / failed / skipped', 'Created']}>
                {jobs.map((job) => (
                  <tr key={job.jobId}>
                    <td>
                      <Link href={`/dashboard/crawls/${encodeURIComponent(job.jobId)}`}>{String(job.config.startUrl ?? job.domain)}</Link>
                    </td>
                    <td>{names.get(job.customerId) ?? job.customerId}</td>
                    <td className={job.status === 'failed' ? 'status-bad' : undefined}>{job.status}</td>
                    <td>{job.stats.totalPages}</td>
                    <td>
                      {job.stats.successfulPages} / {job.stats.failedPages} / {job.stats.skippedPages}
                    </td>
                    <td>{new Date(job.createdAt).toISOString().replace('T', ' ').slice(0, 16)}</td>
                  </tr>
                ))}
              </Table>
        )}
        <Pager total={total} limit={LIMIT} offset={query.offset} href={href} />
      </section>
    </>
  );
});
