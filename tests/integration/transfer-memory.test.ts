/**
 * A tenant of 200 k messages exports and imports with bounded memory: the export holds one page,
 * the import one staging batch. Peak heap growth is sampled while each runs and asserted only
 * against a generous bound, smaller than the file itself (≈ 150 MB; measured: ≈ 40 MB growth for
 * the export, ≈ 50 MB for the import, garbage not yet collected included); the benchmark
 * (bench/transfer.ts) reports the figures.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@/lib/log';
import { exportToFile } from '@/lib/transfer/export';
import { importFile } from '@/lib/transfer/import';
import { migratedPostgres } from '../support/databases';
import { newCustomer } from '../support/fixtures';

const MESSAGES = 200_000;
/** Heap growth allowed while exporting or importing: below the file's size, so holding the file fails. */
const BOUND_BYTES = 96 * 1024 * 1024;

/**
 * The heap in use outside V8's young generation: what survived a collection, so what the code
 * holds. Young-generation garbage is left out: how much of it accumulates is V8's choice (Node 24's
 * V8 lets the young generation grow far larger than Node 20's, which alone put a streaming export
 * over the bound), while a held file, or rows kept alive, end up in the old or large-object space.
 */
function retainedHeap(): number {
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? 0;
  return process.memoryUsage().heapUsed - young;
}

/** Run `fn` while sampling the heap; resolves with its result and the peak growth over the heap before it. */
async function peakHeapGrowth<T>(fn: () => Promise<T>): Promise<{ result: T; peak: number }> {
  globalThis.gc?.();
  const before = retainedHeap();
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, retainedHeap() - before);
  }, 10);
  try {
    const result = await fn();
    peak = Math.max(peak, retainedHeap() - before);
    return { result, peak };
  } finally {
    clearInterval(timer);
  }
}

describe(`a tenant of ${MESSAGES.toLocaleString('en-US')} messages`, () => {
  let source: Awaited<ReturnType<typeof migratedPostgres>>;
  let target: Awaited<ReturnType<typeof migratedPostgres>>;
  let customerId: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-transfer-memory-'));

  beforeAll(async () => {
    [source, target] = await Promise.all([migratedPostgres(), migratedPostgres()]);
    customerId = await newCustomer(source.db, { name: 'Big Co', plan: 'enterprise' });
    await source.db.admin.query(
      `insert into conversations (customer_id, session_id) select $1, 's-' || i from generate_series(1, 200) i`,
      [customerId],
    );
    await source.db.admin.query(
      `insert into messages (conversation_id, customer_id, role, content, client_message_id, created_at)
       select c.id, $1, 'visitor', repeat('a fairly long visitor message ' || i || ' ', 12), 'm-' || i,
              now() - make_interval(secs => i)
         from generate_series(1, $2::int) i
         join conversations c on c.customer_id = $1 and c.session_id = 's-' || (1 + i % 200)`,
      [customerId, MESSAGES],
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([source?.dispose(), target?.dispose()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exports and imports with bounded memory', async () => {
    const file = path.join(dir, 'big.ndjson');
    const exported = await peakHeapGrowth(() => exportToFile(source.db, customerId, file));
    expect(exported.result.footer.tables.messages!.rows).toBe(MESSAGES);
    expect(exported.result.bytes).toBeGreaterThan(BOUND_BYTES);
    expect(exported.peak).toBeLessThan(BOUND_BYTES);

    const imported = await peakHeapGrowth(() => importFile(target.db, file));
    expect(imported.result.written.messages).toBe(MESSAGES);
    expect(imported.peak).toBeLessThan(BOUND_BYTES);
    // The figures, captured like the app's log lines (tests/support/log-capture.ts): shown if the test fails.
    createLogger('tests').info(
      `[transfer memory] ${MESSAGES} messages, ${(exported.result.bytes / 2 ** 20).toFixed(0)} MiB file: peak heap growth ` +
        `export ${(exported.peak / 2 ** 20).toFixed(0)} MiB, import ${(imported.peak / 2 ** 20).toFixed(0)} MiB`,
    );
  }, 300_000);
});
