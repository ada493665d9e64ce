/**
 * The outage fallback (lib/db/fallback.ts), on a real PostgreSQL behind a TCP proxy the benchmark
 * cuts and restores, and a real PGlite directory:
 *
 * 1. Write throughput of the widget's write (`queue_enqueue`, one message per call, 4 in flight)
 *    through FallbackDb while the primary serves, and while the fallback serves and journals —
 *    against plain PostgreSQL and plain PGlite (no journal) measured in the same run.
 * 2. Recovery: 10,000 writes journaled during an outage, then the primary comes back: time from
 *    `recover()` to journal drained and calls back on the primary — against the same 10,000 calls
 *    made directly on PostgreSQL one after the other (what the replay does, minus its bookkeeping).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCustomer } from '@/lib/customers';
import { FallbackDb } from '@/lib/db/fallback';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { openMigratedPglite } from '@/lib/db/pglite';
import { PostgresDb } from '@/lib/db/postgres';
import type { Db } from '@/lib/db/types';
import { enqueueMessages } from '@/lib/queue';
import { createLogger } from '@/lib/log';
import { startTcpProxy } from '../tests/support/tcp-proxy';
import { opsPerSecond, printTable, withBenchDatabase } from './harness';

const WRITES = 1_000;
const JOURNALED = 10_000;
const CONCURRENCY = 4;

/** One visitor message on its own session, like a widget send; ids unique per run. */
function writer(db: Db, customerId: string, label: string) {
  const run = crypto.randomBytes(4).toString('hex');
  return (i: number) =>
    enqueueMessages(db, {
      customerId,
      sessionId: `bench-${label}-${run}-${i % 200}`,
      messages: [{ clientMessageId: `${label}-${run}-${i}`, data: { text: `message ${i}` } }],
    });
}

export async function run(): Promise<void> {
  await withBenchDatabase(async (url) => {
    const direct = new PostgresDb(url, { max: CONCURRENCY });
    await migrate(direct.admin, loadMigrations());
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const proxied = new URL(url);
    proxied.port = String(proxy.port);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-bench-fallback-'));
    const quiet = { ...createLogger('bench'), info: () => {}, warn: () => {} };
    const db = new FallbackDb({
      primary: new PostgresDb(proxied.toString(), { max: CONCURRENCY, connectTimeoutMs: 500, fetchTypes: false }),
      openFallback: () => openMigratedPglite(path.join(root, 'fallback')),
      probeIntervalMs: 3_600_000, // recovery is started by the benchmark
      pingTimeoutMs: 1000,
      logger: quiet,
    });
    const plainPglite = await openMigratedPglite(path.join(root, 'plain'));
    try {
      await db.start({ hasJournal: false });
      const { customer } = await createCustomer(db, { name: 'Bench Store', plan: 'enterprise' });
      await createCustomer(plainPglite, { id: customer.id, name: 'Bench Store', plan: 'enterprise' });
      await db.refreshCustomerCopy(); // what the probe tick does while the primary is up

      // 1. Write throughput.
      const onPostgres = await opsPerSecond(writer(direct, customer.id, 'pg'), WRITES, CONCURRENCY);
      const viaPrimary = await opsPerSecond(writer(db, customer.id, 'primary'), WRITES, CONCURRENCY);
      const onPglite = await opsPerSecond(writer(plainPglite, customer.id, 'pglite'), WRITES, CONCURRENCY);
      await proxy.cut();
      const viaFallback = await opsPerSecond(writer(db, customer.id, 'fallback'), WRITES, CONCURRENCY);
      if (!(await db.status()).fallbackActive) throw new Error('[bench] the fallback did not take over');
      printTable(
        `Outage fallback: queue_enqueue writes/s (${WRITES} calls, ${CONCURRENCY} in flight)`,
        ['backend', 'writes/s', 'vs baseline'],
        [
          ['PostgreSQL, direct (baseline)', onPostgres, '1.00x'],
          ['FallbackDb serving from PostgreSQL', viaPrimary, `${(viaPrimary / onPostgres).toFixed(2)}x`],
          ['PGlite, direct (baseline)', onPglite, '1.00x'],
          ['FallbackDb on PGlite, journaled', viaFallback, `${(viaFallback / onPglite).toFixed(2)}x`],
        ],
      );
      await proxy.restore();
      await db.recover(); // hand over the throughput round's journal before the timed one

      // 2. Recovery after JOURNALED writes.
      await proxy.cut();
      await opsPerSecond(writer(db, customer.id, 'outage'), 10, 1); // switch to the fallback
      await opsPerSecond(writer(db, customer.id, 'outage'), JOURNALED - 10, CONCURRENCY);
      const pending = (await db.status()).journalPending;
      await proxy.restore();
      const started = performance.now();
      const recovered = await db.recover();
      const replaySeconds = (performance.now() - started) / 1000;
      const after = await db.status();
      if (!recovered || after.journalPending !== 0) throw new Error(`[bench] recovery incomplete: ${JSON.stringify(after)}`);

      const baselineStarted = performance.now();
      await opsPerSecond(writer(direct, customer.id, 'sequential'), JOURNALED, 1);
      const baselineSeconds = (performance.now() - baselineStarted) / 1000;
      printTable(
        `Outage fallback: recovery with ${pending.toLocaleString('en-US')} journaled writes`,
        ['what', 'seconds', 'writes/s', 'vs baseline'],
        [
          ['same writes, direct on PostgreSQL, one at a time (baseline)', baselineSeconds, JOURNALED / baselineSeconds, '1.00x'],
          ['recover(): replay + switch back', replaySeconds, pending / replaySeconds, `${(baselineSeconds / replaySeconds).toFixed(2)}x`],
        ],
      );
    } finally {
      await db.close();
      await plainPglite.close();
      await direct.close();
      await proxy.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
}
