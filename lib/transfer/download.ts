/**
 * A customer's export as an HTTP download (the admin API), metered as an `export` in the
 * customer's usage: past the plan's monthly limit it is refused with 429 before anything is read.
 * The body streams page by page; should the export fail midway the stream errors, so the download
 * ends without its footer and no import accepts it.
 */
import { getCustomer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { HttpError } from '@/lib/http';
import { createLogger } from '@/lib/log';
import { incrementUsage } from '@/lib/usage';
import { exportLines } from './export';

const log = createLogger('transfer');

/** Lines are sent in chunks of about this many characters (one write per line would be thousands of tiny writes). */
const CHUNK_CHARS = 64 * 1024;

export interface ExportDownload {
  filename: string;
  body: ReadableStream<Uint8Array>;
}

export async function openExportDownload(db: Db, customerId: string): Promise<ExportDownload> {
  if (!(await getCustomer(db, customerId))) throw new HttpError(404, 'not_found', `customerId: no customer ${customerId}`);
  const usage = await incrementUsage(db, customerId, 'export');
  if (!usage.allowed) {
    const retryAfter = Math.max(1, Math.ceil((Date.parse(usage.resetsAt) - Date.now()) / 1000));
    throw new HttpError(429, 'plan_limit_reached', usage.message, { 'retry-after': String(retryAfter) });
  }
  // Typed by what the stream needs of it: lines, and a way to stop early.
  const lines: AsyncGenerator<string, unknown> = exportLines(db, customerId);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk = '';
      try {
        while (chunk.length < CHUNK_CHARS) {
          const next = await lines.next();
          if (next.done) break;
          chunk += next.value;
        }
      } catch (error) {
        log.error(`export of customer ${customerId} failed midway: ${(error as Error).message}`);
        controller.error(error);
        return;
      }
      if (chunk === '') controller.close();
      else controller.enqueue(encoder.encode(chunk));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
  const day = new Date().toISOString().slice(0, 10);
  return { filename: `omniops-${customerId}-${day}.ndjson`, body };
}
