/**
 * A customer's export as an HTTP download (the admin API), metered as an `export` in the
 * customer's usage: past the plan's monthly limit it is refused with 429 before anything is read.
 * The body streams page by page; should the export fail midway the stream errors, so the download
 * ends without its footer and no import accepts it. With the configured keys (EXPORT_SIGNING_KEY,
 * EXPORT_ENCRYPTION_KEY) the download is signed and/or encrypted like a CLI export (./protect.ts).
 */
import { getConfig } from '@/lib/config';
import { getCustomer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { HttpError } from '@/lib/http';
import { createLogger } from '@/lib/log';
import { incrementUsage } from '@/lib/usage';
import { exportLines, protectedChunks } from './export';
import type { TransferKeys } from './protect';

const log = createLogger('transfer');

/** Lines are sent in chunks of about this many characters (one write per line would be thousands of tiny writes). */
const CHUNK_CHARS = 64 * 1024;

export interface ExportDownload {
  filename: string;
  /** NDJSON, or bytes when encrypted. */
  contentType: string;
  body: ReadableStream<Uint8Array>;
}

/** The lines joined into chunks of about CHUNK_CHARS. */
async function* chunked(lines: AsyncGenerator<string, unknown>): AsyncGenerator<string> {
  let chunk = '';
  for await (const text of lines) {
    chunk += text;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

export async function openExportDownload(
  db: Db,
  customerId: string,
  keys: TransferKeys = getConfig().transferKeys,
): Promise<ExportDownload> {
  if (!(await getCustomer(db, customerId))) throw new HttpError(404, 'not_found', `customerId: no customer ${customerId}`);
  const usage = await incrementUsage(db, customerId, 'export');
  if (!usage.allowed) {
    const retryAfter = Math.max(1, Math.ceil((Date.parse(usage.resetsAt) - Date.now()) / 1000));
    throw new HttpError(429, 'plan_limit_reached', usage.message, { 'retry-after': String(retryAfter) });
  }
  // Typed by what the stream needs of it: lines, and a way to stop early.
  const lines: AsyncGenerator<string, unknown> = exportLines(db, customerId, { keys });
  const chunks = protectedChunks(chunked(lines), keys)[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: IteratorResult<string | Buffer>;
      try {
        next = await chunks.next();
      } catch (error) {
        log.error(`export of customer ${customerId} failed midway: ${(error as Error).message}`);
        controller.error(error);
        return;
      }
      if (next.done) controller.close();
      else controller.enqueue(typeof next.value === 'string' ? encoder.encode(next.value) : new Uint8Array(next.value));
    },
    async cancel() {
      await chunks.return?.(undefined);
      await lines.return(undefined);
    },
  });
  const day = new Date().toISOString().slice(0, 10);
  return keys.encryptionKey
    ? { filename: `omniops-${customerId}-${day}.ndjson.enc`, contentType: 'application/octet-stream', body }
    : { filename: `omniops-${customerId}-${day}.ndjson`, contentType: 'application/x-ndjson; charset=utf-8', body };
}
