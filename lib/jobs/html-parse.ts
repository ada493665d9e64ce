/**
 * Parsing crawled pages and sitemaps off the event loop: one worker thread (html-worker.mjs) per
 * process, started on first use, kept while work is pending (unref'd when idle, so it never holds
 * a process open). A parse past PARSE_TIMEOUT_MS (pathological markup) ends the worker; the next
 * parse starts a new one. The worker file is read from the checkout at run time, not bundled.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createLogger } from '@/lib/log';
import type { ExtractedPage, SitemapLocations } from './extract.mjs';

const log = createLogger('crawler');

/** Longest a single parse may take before the worker is ended. */
const PARSE_TIMEOUT_MS = 60_000;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

type Reply = { id: number; result?: unknown; error?: string };

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

function failAll(worker: Worker, error: Error) {
  for (const [id, entry] of pending) {
    clearTimeout(entry.timer);
    entry.reject(error);
    pending.delete(id);
  }
  void worker.terminate();
}

function getWorker(): Worker {
  if (worker) return worker;
  // The data directory pattern of lib/config.ts: a path chosen at run time, outside the build.
  const file = path.join(/*turbopackIgnore: true*/ process.cwd(), 'lib', 'jobs', 'html-worker.mjs');
  const started = new Worker(file);
  started.on('message', (reply: Reply) => {
    const entry = pending.get(reply.id);
    if (!entry) return;
    pending.delete(reply.id);
    clearTimeout(entry.timer);
    if (pending.size === 0) started.unref();
    if (reply.error !== undefined) entry.reject(new Error(`parse failed: ${reply.error}`));
    else entry.resolve(reply.result);
  });
  const gone = (error: Error) => {
    if (worker === started) worker = null;
    failAll(started, error);
  };
  started.on('error', (error) => {
    log.error(`parse worker failed: ${error.message}`);
    gone(new Error(`parse failed: ${error.message}`));
  });
  started.on('exit', (code) => gone(new Error(`parse failed: the parse worker exited (${code})`)));
  worker = started;
  return started;
}

function run<T>(kind: 'html' | 'sitemap', text: string | Uint8Array, url: string): Promise<T> {
  const target = getWorker();
  target.ref();
  // A copy of the bytes whose buffer can be handed over (transferred, not cloned).
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : new Uint8Array(text);
  const id = nextId++;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (worker === target) worker = null;
      failAll(target, new Error(`parse failed: took over ${PARSE_TIMEOUT_MS} ms`));
    }, PARSE_TIMEOUT_MS);
    pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
    target.postMessage({ id, kind, bytes, url }, [bytes.buffer]);
  });
}

/** Title, headings, main text and links of an HTML page (UTF-8 bytes or text), parsed in the worker. */
export function parsePage(body: string | Uint8Array, pageUrl: string): Promise<ExtractedPage> {
  return run<ExtractedPage>('html', body, pageUrl);
}

/** `<loc>` entries of a sitemap or sitemap index, parsed in the worker. */
export function parseSitemap(body: string | Uint8Array, url: string): Promise<SitemapLocations> {
  return run<SitemapLocations>('sitemap', body, url);
}
