import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { z } from 'zod';
import { staffPage } from '@/lib/auth/page';
import { crawlTimeline, findStaffJob } from '@/lib/dashboard';
import { RESULT_STATUSES, getPersistentJobManager, jobIdSchema, type ResultStatus } from '@/lib/jobs/persistent-job-manager';
import { ActionButton } from '../../_components/actions';
import { BarChart } from '../../_components/chart';
import { Table } from '../../_components/table';

export const metadata: Metadata = { title: 'Crawl job' };

const LIMIT = 50;

const params = z.object({ id: z.string().transform((id) => decodeURIComponent(id)).pipe(jobIdSchema) });

export default staffPage({ path: '/dashboard/crawls/[id]', customer: 'resource', params }, async ({ staff, db, params: { id }, searchParams: query }) => {
  const status = RESULT_STATUSES.includes(query.status as ResultStatus) ? (query.status as ResultStatus) : undefined;
  const afterId = Math.max(0, Number(query.after) || 0);
  const manager = await getPersistentJobManager(db);
  // The page shows the database's figures (the hot copy may lag a running crawl by one write).
  const job = await findStaffJob(manager, staff, id);
  if (!job) notFound();
  const [page, timeline] = await Promise.all([
    manager.getJobResultsFromSupabase(job.jobId, { status, afterId, limit: LIMIT }),
    crawlTimeline(db, job.jobId),
  ]);
  const base = `/dashboard/crawls/${encodeURIComponent(job.jobId)}`;
  const stats = job.stats;
  return (
    <>
      <p>
        <Link href="/dashboard/crawls">← Crawl jobs</Link>
      </p>
      <h1>Crawl of {String(job.config.startUrl ?? job.domain)}</h1>
      <p className="muted">
        Job <code>{job.jobId}</code> · <span className={job.status === 'failed' ? 'status-bad' : undefined}>{job.status}</span>
        {job.errorMessage && <> · {job.errorMessage}</>}
      </p>
      {(job.status === 'queued' || job.status === 'running') && (
        <p>
          <ActionButton url={`/api/admin/crawl-jobs/${encodeURIComponent(job.jobId)}/cancel`} label="Cancel crawl" success="Crawl cancelled." />
        </p>
      )}
      <dl className="tiles" aria-label="Crawl statistics">
        {(
          [
            ['Pages', stats.totalPages],
            ['Successful', stats.successfulPages],
            ['Failed', stats.failedPages],
            ['Skipped', stats.skippedPages],
            ['Avg. time (ms)', stats.avgProcessingTimeMs ?? '—'],
            ['Pages / s', stats.pagesPerSecond ?? '—'],
            ['Bytes', stats.totalBytes],
          ] as const
        ).map(([label, value]) => (
          <div key={label} className="tile">
            <dt>{label}</dt>
            <dd data-stat={label}>{value}</dd>
          </div>
        ))}
      </dl>
      <BarChart
        title="Pages recorded over the crawl (by second from its first page)"
        unit="pages"
        points={timeline.map((p) => ({ label: `${p.second} s`, count: p.count }))}
      />
      <h2>Results</h2>
      <nav aria-label="Filter results by status" className="chips">
        <Link href={base} aria-current={!status ? 'page' : undefined}>
          all
        </Link>
        {RESULT_STATUSES.map((s) => (
          <Link key={s} href={`${base}?status=${s}`} aria-current={status === s ? 'page' : undefined}>
            {s}
          </Link>
        ))}
      </nav>
      {page.results.length === 0 ? (
        <p className="muted">{status ? `No ${status} pages.` : 'No pages recorded yet.'}</p>
      ) : (
        <Table label="Crawl results" headers={['URL', 'Result', 'HTTP', 'ms', 'Bytes', 'Note']}>
              {page.results.map((r) => (
                <tr key={r.id}>
                  <td className="url">{r.url}</td>
                  <td className={r.status === 'failed' ? 'status-bad' : undefined}>{r.status}</td>
                  <td>{r.httpStatus ?? '—'}</td>
                  <td>{r.processingTimeMs ?? '—'}</td>
                  <td>{r.bytes ?? '—'}</td>
                  <td>{r.error ?? ''}</td>
                </tr>
              ))}
            </Table>
      )}
      <nav className="pager" aria-label="Result pages">
        {afterId > 0 ? <Link href={`${base}${status ? `?status=${status}` : ''}`}>← First page</Link> : <span />}
        <span />
        {page.nextAfterId !== null ? (
          <Link href={`${base}?${new URLSearchParams({ ...(status ? { status } : {}), after: String(page.nextAfterId) })}`}>Next →</Link>
        ) : (
          <span />
        )}
      </nav>
    </>
  );
});
