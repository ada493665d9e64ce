/**
 * npm run worker — the long-running crawl worker: claims queued crawl jobs (and resumes interrupted
 * ones) and crawls them, one after another, until stopped. Any number of workers can run against
 * one database: a job is leased to one worker at a time (SKIP LOCKED).
 *
 * SIGINT / SIGTERM stop it gracefully: no new page is started, pages in flight are recorded, and
 * the job's lease is given back so another worker (or the `scrape` cron task) resumes it at once.
 *
 * Against the embedded database the worker needs the server stopped (PGlite allows one process);
 * there the server's own scheduler runs the `scrape` task every minute, so no worker is needed.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { getRedisClientWithFallback } from '@/lib/cache/resolve';
import { getConfig, loadEnvFiles } from '@/lib/config';
import { isConnectionError } from '@/lib/db/errors';
import { openDb } from '@/lib/db/resolve';
import { announceEgressPolicy } from '@/lib/jobs/egress';
import { PersistentJobManager } from '@/lib/jobs/persistent-job-manager';
import { runCrawlJobs } from '@/lib/jobs/runner';
import { createLogger } from '@/lib/log';

const log = createLogger('worker');
/** Claims stop after this long, then the worker looks again: a bound on one round, not on a job. */
const ROUND_MS = 5 * 60_000;
/** Idle wait between looks when no job is runnable. */
const IDLE_MS = 2_000;

loadEnvFiles();
const config = getConfig();
const stopping = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info(`${signal}: finishing pages in flight, then stopping`);
    stopping.abort();
  });
}

// The primary only: the outage fallback belongs to the server process (its data directory is single-process).
const db = await openDb(config);
const cache = getRedisClientWithFallback(config);
const manager = new PersistentJobManager(db, cache);
log.info(`crawl worker started on ${db.kind}; cache ${cache.kind}`);
announceEgressPolicy(config);

/** The idle wait, cut short by a stop signal. */
const idle = () => delay(IDLE_MS, undefined, { signal: stopping.signal }).catch(() => {});

while (!stopping.signal.aborted) {
  try {
    const runs = await runCrawlJobs(manager, cache, { budgetMs: ROUND_MS, signal: stopping.signal });
    for (const run of runs) log.info(`job ${run.jobId}: ${run.outcome}`);
    if (runs.length === 0) await idle();
  } catch (error) {
    if (!isConnectionError(error)) throw error;
    log.warn(`database unavailable (${(error as Error).message}); retrying`);
    await idle();
  }
}
await db.close();
await cache.close();
log.info('stopped');
