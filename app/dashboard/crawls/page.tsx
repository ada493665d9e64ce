import type { Metadata } from 'next';
import Link from 'next/link';
import { getConfig } from '@/lib/config';
import { listCustomers } from '@/lib/customers';
import { resolveDb } from '@/lib/db/resolve';
import { listJobsQuerySchema } from '@/lib/jobs';
import { getPersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import { StartCrawlForm } from '../_components/actions';
import { Pager } from '../_components/pager';
import { Table } from '../_components/table';

export const metadata: Metadata = { title: 'Crawl jobs' };

const LIMIT = 20;

export default async function CrawlJobsPage({ searchParams }: { searchParams: Promise<Record<string, string | undefined>> }) {
  const params = await searchParams;
  const parsed = listJobsQuerySchema.safeParse({ status: params.status || undefined, offset: params.offset, limit: LIMIT });
  const query = parsed.success ? parsed.data : listJobsQuerySchema.parse({ limit: LIMIT });
  const [{ jobs, total }, customers] = await Promise.all([
    getPersistentJobManager().then((manager) => manager.listJobs(query)),
    resolveDb(getConfig()).then(listCustomers),
  ]);
  const names = new Map(customers.map((c) => [c.id, c.name]));
  return (
    <>
      <h1>Crawl jobs</h1>
      <section aria-labelledby="start">
        <h2 id="start">Start a crawl</h2>
        <StartCrawlForm customers={customers.map(({ id, name, allowedOrigins }) => ({ id, name, allowedOrigins }))} />
      </section>
      <section aria-labelledby="jobs">
        <h2 id="jobs">Jobs</h2>
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
        <Pager total={total} limit={LIMIT} offset={query.offset} href={(offset) => `/dashboard/crawls?offset=${offset}`} />
      </section>
    </>
  );
}
