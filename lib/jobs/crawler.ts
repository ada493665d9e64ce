/**
 * The crawler: fetches a customer's site for a crawl job and records every page it meets in the
 * audit trail (lib/jobs/persistent-job-manager.ts), with its text in scraped_pages for the chat's
 * answers.
 *
 * - Starts at the job's `startUrl` and the sitemaps its robots.txt declares (and `/sitemap.xml`
 *   for a `sitemap` job); follows links to the same site only (same host, `www.` ignored).
 * - Honours robots.txt (a disallowed page is recorded `skipped`, never fetched; its Crawl-delay is
 *   the starting delay) and `<meta name="robots">` noindex / nofollow.
 * - max pages, max depth (the start page and sitemap entries are depth 0), bounded concurrency. A
 *   `single_page` job fetches its start page only.
 * - Politeness per domain: the `rate:{domain}` counter (60 requests a minute, lib/cache/keys.ts;
 *   past it the crawler waits for the window) and an adaptive delay between requests kept in
 *   `rate:delay:{domain}`: doubled (at least 500 ms, at most 30 s, or the server's Retry-After) on
 *   429 and 5xx, shrunk by a quarter on each success. 429 and 503 are retried twice after the delay;
 *   other failures are recorded once.
 * - Deduplicates content per customer through `content:hash:{customer}:{hash}`: the first URL with
 *   a text keeps it, later ones are recorded `skipped` ("duplicate content of …").
 * - Records each page right after fetching it, in one transaction with the job's persisted frontier
 *   (the page done, the pages it links to pending). Resuming a job (after a crash, a lost lease or a
 *   spent time budget) reads only the pending entries — O(pages left), whatever the job's size — so
 *   no recorded page is fetched again. A page being fetched when the process died is fetched again
 *   (its result was never recorded).
 * - Every request goes through lib/jobs/egress.ts (SSRF guard): a URL it refuses — an internal
 *   address, another port — is recorded `failed` with an error starting `refused:`; robots.txt and
 *   sitemaps that it refuses count as absent. Links longer than 2,048 characters are not followed
 *   (counted in the page's `linksTooLong`).
 */
import crypto from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import robotsParser from 'robots-parser';
import { z } from 'zod';
import { contentHashKey, domainDelayKey, domainRateKey } from '@/lib/cache/keys';
import { checkRateLimit } from '@/lib/cache/rate-limit';
import type { CacheStore } from '@/lib/cache/types';
import { getConfig } from '@/lib/config';
import { DbError, SqlState } from '@/lib/db/errors';
import { createLogger } from '@/lib/log';
import { normalizeUrl } from './extract.mjs';
import { parsePage, parseSitemap } from './html-parse';
import { EgressRefused, ResponseTooLarge, checkUrl, createGuardedFetch, egressPolicy, type EgressPolicy, type GuardedFetch } from './egress';
import type { CrawlJob, FrontierEntry, PageResult, PersistentJobManager } from './persistent-job-manager';

const log = createLogger('crawler');

export const CRAWLER_USER_AGENT = 'OmniopsBot/0.1 (+https://github.com/omniops; support-chat content indexer)';

/** A job's `config`: where to start and how far to go. */
/** Longest URL recorded (scrape_job_results.url); longer links are not followed. */
export const MAX_URL_LENGTH = 2048;

export const crawlConfigSchema = z.object({
  startUrl: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
    // Zod runs this check even when the URL check above failed: an unparsable URL is left to it.
    .refine((url) => !URL.canParse(url) || new URL(url).host.length <= 253, 'host must be at most 253 characters'),
  /** Pages recorded at most (any status). */
  maxPages: z.int().min(1).max(10_000).default(100),
  maxDepth: z.int().min(0).max(20).default(3),
  /** Requests in flight at once. */
  concurrency: z.int().min(1).max(16).default(4),
  requestTimeoutMs: z.int().min(100).max(120_000).default(10_000),
  /** A page's body beyond this is not read. @default 5 MiB */
  maxBytes: z.int().min(1024).max(50 * 1024 * 1024).default(5 * 1024 * 1024),
});
export type CrawlConfig = z.output<typeof crawlConfigSchema>;

export type CrawlOutcome =
  /** Every reachable page within the limits is recorded; the job is completed. */
  | 'completed'
  /** Stopped early (time budget spent or the worker stopping); the job stays running, to be resumed. */
  | 'paused'
  /** The job was cancelled meanwhile. */
  | 'cancelled';

export interface CrawlOptions {
  manager: PersistentJobManager;
  cache: CacheStore;
  /** Start no page after this instant (epoch ms): a serverless invocation must end in time. */
  deadline?: number;
  /** Stop starting pages (the worker is shutting down); pages in flight are still recorded. */
  signal?: AbortSignal;
  /** The job's lease; renewed every third of it. @default 120 */
  leaseSeconds?: number;
  /** Called after each recorded page. */
  onRecorded?: (result: PageResult) => void;
  /** Replaces parts of the configured SSRF policy (tests: an allow-list, a resolver). */
  egress?: Partial<EgressPolicy>;
  now?: () => number;
}

type PageTask = FrontierEntry;

const MAX_DELAY_MS = 30_000;
const MIN_BACKOFF_MS = 500;
const RETRIED_STATUSES = new Set([429, 503]);
const MAX_ATTEMPTS = 3;
/** Links kept per page (for resuming); a page with more has its first ones followed. */
const MAX_LINKS = 500;

/** Wait `ms`, or less if `signal` aborts first (never rejects). */
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  ms <= 0 ? Promise.resolve() : delay(ms, undefined, { signal }).catch(() => {});

const siteKey = (url: URL) => `${url.hostname.replace(/^www\./, '')}:${url.port}`;

/** The body's first `maxBytes` (the guarded fetch errors past its cap: what came before is kept). */
async function readBody(response: Response, maxBytes: number): Promise<{ data: Buffer; bytes: number }> {
  if (!response.body) return { data: Buffer.alloc(0), bytes: 0 };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (error) {
      if (error instanceof ResponseTooLarge) break;
      throw error;
    }
    const { done, value } = chunk;
    if (done) break;
    chunks.push(value);
    bytes += value.byteLength;
    if (bytes >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return { data: Buffer.concat(chunks), bytes };
}

/** Crawl `job` until done, stopped, out of time or cancelled. Rejects when recording fails. */
export async function crawlJob(job: CrawlJob, options: CrawlOptions): Promise<CrawlOutcome> {
  return new Crawl(job, crawlConfigSchema.parse(job.config), options).run();
}

class Crawl {
  private readonly fetch: GuardedFetch;
  private readonly egress: EgressPolicy;
  private readonly now: () => number;
  private readonly start: URL;
  private readonly site: string;
  private readonly domain: string;
  private readonly seen = new Set<string>();
  private readonly frontier: PageTask[] = [];
  private inFlight = 0;
  private recorded = 0;
  private stopped: CrawlOutcome | null = null;
  private failure: unknown = null;
  private robots: ReturnType<typeof robotsParser> | null = null;
  private initialDelayMs = 0;
  private nextSlot = 0;
  private wake: (() => void) | null = null;

  constructor(
    private readonly job: CrawlJob,
    private readonly config: CrawlConfig,
    private readonly options: CrawlOptions,
  ) {
    this.egress = egressPolicy(getConfig(), options.egress);
    this.fetch = createGuardedFetch(this.egress);
    this.now = options.now ?? Date.now;
    this.start = new URL(config.startUrl);
    this.site = siteKey(this.start);
    this.domain = this.start.host;
  }

  async run(): Promise<CrawlOutcome> {
    const leaseSeconds = this.options.leaseSeconds ?? 120;
    const renew = setInterval(() => void this.renewLease(leaseSeconds), (leaseSeconds * 1000) / 3);
    renew.unref();
    try {
      await this.loadRobots();
      await this.resume();
      await this.loop();
      if (this.failure) throw this.failure;
      if (this.stopped) return this.stopped;
      await this.options.manager.completeJob(this.job.jobId);
      log.info(`job ${this.job.jobId}: completed, ${this.recorded} pages recorded in this run`);
      return 'completed';
    } finally {
      clearInterval(renew);
    }
  }

  private async renewLease(leaseSeconds: number) {
    try {
      const lease = await this.options.manager.lease(this.job.jobId, { leaseSeconds });
      if (lease.status === 'cancelled' || !lease.leased) this.stop('cancelled');
    } catch (error) {
      log.warn(`job ${this.job.jobId}: lease renewal failed: ${(error as Error).message}`);
    }
  }

  private stop(outcome: CrawlOutcome) {
    this.stopped ??= outcome;
    this.wake?.();
  }

  private async loadRobots() {
    const robotsUrl = new URL('/robots.txt', this.start).toString();
    let text = '';
    try {
      const response = await this.request(robotsUrl, 'follow', 512 * 1024);
      if (response.ok) text = (await readBody(response, 512 * 1024)).data.toString('utf8');
      else await response.body?.cancel();
    } catch (error) {
      log.warn(`job ${this.job.jobId}: robots.txt unreadable (${(error as Error).message}); crawling as allowed`);
    }
    this.robots = robotsParser(robotsUrl, text);
    this.initialDelayMs = Math.min(MAX_DELAY_MS, (this.robots.getCrawlDelay(CRAWLER_USER_AGENT) ?? 0) * 1000);
  }

  /**
   * Seeds (the start page and sitemap entries) join the job's frontier; then its pending entries
   * are what this run fetches — at most as many as pages are left to record.
   */
  private async resume() {
    const seeds = [this.config.startUrl, ...(await this.sitemapPages())]
      .map((url) => this.accept(url, 0))
      .filter((task): task is PageTask => task !== null);
    await this.options.manager.discover(this.job.jobId, seeds);
    this.recorded = this.job.stats.totalPages;
    const left = this.config.maxPages - this.recorded;
    if (left <= 0) return;
    for (const task of await this.options.manager.pendingPages(this.job.jobId, Math.min(left, 10_000))) this.push(task);
    if (this.recorded > 0) {
      log.info(`job ${this.job.jobId}: resuming after ${this.recorded} recorded pages, ${this.frontier.length} to go`);
    }
  }

  private async sitemapPages(): Promise<string[]> {
    if (this.job.jobType === 'single_page') return [];
    const sitemaps = [...(this.robots?.getSitemaps() ?? [])];
    if (this.job.jobType === 'sitemap') sitemaps.push(new URL('/sitemap.xml', this.start).toString());
    const pages: string[] = [];
    const visited = new Set<string>();
    while (sitemaps.length > 0 && visited.size < 20) {
      const url = sitemaps.shift()!;
      if (visited.has(url) || !this.isSameSite(url)) continue;
      visited.add(url);
      try {
        const response = await this.request(url, 'follow', this.config.maxBytes);
        if (!response.ok) {
          await response.body?.cancel();
          continue;
        }
        const found = await parseSitemap((await readBody(response, this.config.maxBytes)).data, url);
        pages.push(...found.pages);
        sitemaps.push(...found.sitemaps);
      } catch (error) {
        log.warn(`job ${this.job.jobId}: sitemap ${url} unreadable: ${(error as Error).message}`);
      }
    }
    return pages;
  }

  private isSameSite(url: string): boolean {
    try {
      return siteKey(new URL(url)) === this.site;
    } catch {
      return false;
    }
  }

  /** `url` as a page to crawl at `depth`, or null: not http(s), too deep, another site, too long. */
  private accept(url: string, depth: number): PageTask | null {
    const normalized = normalizeUrl(url, this.config.startUrl);
    const maxDepth = this.job.jobType === 'single_page' ? 0 : this.config.maxDepth;
    if (!normalized || normalized.length > MAX_URL_LENGTH || depth > maxDepth || !this.isSameSite(normalized)) return null;
    return { url: normalized, depth };
  }

  /** Into this run's queue (the frontier in the database already holds it). */
  private push(task: PageTask) {
    if (this.seen.has(task.url)) return;
    this.seen.add(task.url);
    this.frontier.push(task);
  }

  private async loop() {
    const settled: Promise<void>[] = [];
    for (;;) {
      if (this.options.signal?.aborted) this.stop('paused');
      if (this.options.deadline !== undefined && this.now() >= this.options.deadline) this.stop('paused');
      const canStart =
        !this.stopped && !this.failure && this.frontier.length > 0 && this.inFlight < this.config.concurrency &&
        this.recorded + this.inFlight < this.config.maxPages;
      if (canStart) {
        const task = this.frontier.shift()!;
        this.inFlight += 1;
        settled.push(
          this.visit(task)
            .catch((error: unknown) => {
              this.failure ??= error;
            })
            .finally(() => {
              this.inFlight -= 1;
              this.wake?.();
            }),
        );
        continue;
      }
      if (this.inFlight === 0) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        // Re-check the deadline and the signal while waiting.
        setTimeout(resolve, 250).unref();
      });
      this.wake = null;
    }
    await Promise.all(settled);
    if (!this.stopped && this.frontier.length > 0 && this.recorded < this.config.maxPages && !this.failure) {
      this.stop('paused');
    }
  }

  private async visit(task: PageTask) {
    const result = await this.fetchPage(task);
    if (!result) return this.stop('paused');
    try {
      const { discovered } = await this.options.manager.recordPage(this.job.jobId, { ...result.result, pageData: result.pageData }, result.follow);
      this.recorded += 1;
      this.options.onRecorded?.(result.result);
      for (const task of discovered) this.push(task);
    } catch (error) {
      // The job was finished meanwhile (cancelled by staff): stop, nothing more is recorded.
      if (error instanceof DbError && error.code === SqlState.objectNotInPrerequisiteState) return this.stop('cancelled');
      // The database serving now does not know the job: the outage fallback, which holds only jobs
      // created during the outage. The crawl waits for the primary (its lease there expires).
      if (error instanceof DbError && error.code === SqlState.noDataFound) {
        log.warn(`job ${this.job.jobId}: unknown to the database serving now (outage fallback?); resumes after recovery`);
        return this.stop('paused');
      }
      throw error;
    }
  }

  /**
   * Pages are fetched with redirects recorded (`manual`); robots.txt and sitemaps follow them, each
   * hop checked by the guarded fetch.
   */
  private request(url: string, redirect: 'follow' | 'manual' = 'manual', maxBytes = this.config.maxBytes): Promise<Response> {
    return this.fetch(url, {
      redirect,
      headers: { 'user-agent': CRAWLER_USER_AGENT, accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1' },
      signal: AbortSignal.timeout(this.config.requestTimeoutMs),
      maxBytes,
    });
  }

  /**
   * Wait for this domain's next request slot: the adaptive delay between requests and the
   * per-minute counter. False when the wait would end past the deadline or the worker is stopping:
   * the page is then left unrecorded, and a resumed crawl finds it again through the page that
   * links to it.
   */
  private async politeness(): Promise<boolean> {
    const stored = Number((await this.options.cache.get(domainDelayKey(this.domain).key)) ?? 0);
    const delay = Math.max(this.initialDelayMs, Number.isFinite(stored) ? stored : 0);
    const slot = Math.max(this.now(), this.nextSlot);
    this.nextSlot = slot + delay;
    const waitUntil = async (at: number) => {
      if (this.options.deadline !== undefined && at > this.options.deadline) return false;
      await sleep(at - this.now(), this.options.signal);
      return !this.options.signal?.aborted;
    };
    if (!(await waitUntil(slot))) return false;
    for (;;) {
      const rate = await checkRateLimit(this.options.cache, domainRateKey(this.domain), this.now);
      if (rate.allowed) return true;
      if (!(await waitUntil(rate.resetAt))) return false;
    }
  }

  private async adjustDelay(status: number | null, retryAfter: string | null) {
    const key = domainDelayKey(this.domain);
    const current = Number((await this.options.cache.get(key.key)) ?? 0) || 0;
    let next: number;
    if (status !== null && (status === 429 || status >= 500)) {
      const serverAsked = Number(retryAfter) * 1000;
      next = Math.min(MAX_DELAY_MS, Math.max(current * 2, MIN_BACKOFF_MS, Number.isFinite(serverAsked) ? serverAsked : 0));
      log.warn(`${this.domain}: HTTP ${status}, delay between requests now ${next} ms`);
      // Every request to the domain, this one's retry included, waits at least that long from now.
      this.nextSlot = Math.max(this.nextSlot, this.now() + next);
    } else {
      if (current === 0) return;
      next = Math.floor(current * 0.75);
    }
    if (next < 100) await this.options.cache.delete(key.key);
    else await this.options.cache.set(key.key, String(next), key.ttlMs);
  }

  /** The page's result, or null when out of time before it could be fetched. */
  private async fetchPage(task: PageTask): Promise<{
    result: PageResult;
    pageData: Record<string, unknown>;
    follow: PageTask[];
  } | null> {
    const started = this.now();
    const base = { url: task.url, recordedAt: new Date(started).toISOString() };
    const pageData: Record<string, unknown> = { depth: task.depth };
    const elapsed = () => Math.max(0, Math.round(this.now() - started));
    if (this.robots && this.robots.isAllowed(task.url, CRAWLER_USER_AGENT) === false) {
      return { result: { ...base, status: 'skipped', error: 'disallowed by robots.txt' }, pageData, follow: [] };
    }
    const refused = (error: EgressRefused) => ({ result: { ...base, status: 'failed' as const, error: error.message }, pageData, follow: [] });
    try {
      checkUrl(task.url, this.egress);
    } catch (error) {
      if (error instanceof EgressRefused) return refused(error);
      throw error;
    }
    let response: Response | null = null;
    let fetchStarted = started;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      if (!(await this.politeness())) return null;
      fetchStarted = this.now();
      try {
        response = await this.request(task.url);
      } catch (error) {
        if (error instanceof EgressRefused) return refused(error);
        const cause = (error as Error).name === 'TimeoutError' ? `timed out after ${this.config.requestTimeoutMs} ms` : (error as Error).message;
        return {
          result: { ...base, status: 'failed', processingTimeMs: elapsed(), error: `fetch failed: ${cause}` },
          pageData,
          follow: [],
        };
      }
      await this.adjustDelay(response.status, response.headers.get('retry-after'));
      if (!RETRIED_STATUSES.has(response.status) || attempt === MAX_ATTEMPTS) break;
      await response.body?.cancel();
    }
    const res = response!;
    const timing = { processingTimeMs: Math.max(0, Math.round(this.now() - fetchStarted)), httpStatus: res.status };

    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      const target = normalizeUrl(res.headers.get('location') ?? '', task.url);
      const next = target ? this.accept(target, task.depth) : null;
      const follow = next ? [next] : [];
      if (target) pageData.redirectTo = target;
      return {
        result: { ...base, ...timing, status: 'skipped', error: target ? `redirected to ${target}` : 'redirect without a location' },
        pageData,
        follow,
      };
    }
    if (res.status >= 400) {
      await res.body?.cancel();
      return { result: { ...base, ...timing, status: 'failed', error: `HTTP ${res.status}` }, pageData, follow: [] };
    }
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'text/html' && type !== 'application/xhtml+xml') {
      await res.body?.cancel();
      const declared = Number(res.headers.get('content-length'));
      return {
        result: { ...base, ...timing, status: 'skipped', bytes: Number.isFinite(declared) && declared > 0 ? declared : 0, error: `not HTML (${type || 'no content type'})` },
        pageData,
        follow: [],
      };
    }
    const body = await readBody(res, this.config.maxBytes);
    let extracted;
    try {
      extracted = await parsePage(body.data, task.url);
    } catch (error) {
      return {
        result: { ...base, ...timing, status: 'failed', bytes: body.bytes, error: (error as Error).message },
        pageData,
        follow: [],
      };
    }
    const sameSite = extracted.nofollow ? [] : extracted.links.filter((link) => this.isSameSite(link));
    const links = sameSite.filter((link) => link.length <= MAX_URL_LENGTH).slice(0, MAX_LINKS);
    pageData.title = extracted.title;
    pageData.links = links;
    if (links.length < sameSite.length && sameSite.some((link) => link.length > MAX_URL_LENGTH)) {
      pageData.linksTooLong = sameSite.filter((link) => link.length > MAX_URL_LENGTH).length;
    }
    const follow = links.map((url) => this.accept(url, task.depth + 1)).filter((next): next is PageTask => next !== null);
    const contentHash = crypto.createHash('sha256').update(`${extracted.title}\n${extracted.content}`).digest('hex');
    const measured = { ...timing, processingTimeMs: elapsed(), bytes: body.bytes, contentHash };
    if (extracted.noindex) {
      return { result: { ...base, ...measured, status: 'skipped', error: 'noindex' }, pageData, follow };
    }
    const owner = await this.contentOwner(contentHash, task.url);
    if (owner !== task.url) {
      return { result: { ...base, ...measured, status: 'skipped', error: `duplicate content of ${owner}` }, pageData, follow };
    }
    return {
      result: {
        ...base,
        ...measured,
        status: 'success',
        page: { title: extracted.title, headings: extracted.headings, content: extracted.content },
      },
      pageData,
      follow,
    };
  }

  /**
   * The first URL seen with this content: appended to the hash's list and its head read back in
   * one transaction, so of two pages racing, exactly one owns the text — and a page that owned it
   * before a crash still owns it when fetched again.
   */
  private async contentOwner(hash: string, url: string): Promise<string> {
    const key = contentHashKey(this.job.customerId, hash);
    const [, head] = await this.options.cache.batch([
      { op: 'append', key: key.key, values: [url], ttlMs: key.ttlMs },
      { op: 'range', key: key.key, start: 0, stop: 0 },
    ] as const);
    return head[0] ?? url;
  }
}
