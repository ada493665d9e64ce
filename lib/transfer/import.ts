/**
 * Import: stage the file's rows on the target in batches (a private staging table, invisible to the
 * app) while reading the file once and proving it intact (schema, signature, checksums), then make
 * them live in one atomic `transfer_import_commit` — only once the whole file has been verified.
 * A failure at any point — a bad row, a lost connection, a crash — leaves the target's live data
 * exactly as it was: staged rows are dropped by `transfer_import_abort` (or swept after a day when
 * the process died).
 *
 * Conflict policies, when the target already has the customer (docs/transfer.md, "Conflict policies"):
 *   fail       (default) refuse; nothing changes
 *   skip       keep every existing row; add the file's rows that collide with none (a merge)
 *   overwrite  replace the customer's data on the target with the file's
 *
 * Memberships (customer_members: who may sign in to the customer, as what) are imported only with
 * `importMembers` (`--import-members`): a file is data, and under `skip` a forged owner row would
 * otherwise be merged into an existing customer. Without it the file's membership rows are left
 * out and the target's own are kept exactly as they are, whatever the policy (they are staged in
 * place of the file's, so an overwrite writes them back).
 */
import crypto from 'node:crypto';
import type { Customer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { createLogger } from '@/lib/log';
import { differences } from './digest';
import { TransferError, transferRpc } from './errors';
import { digestCustomer, tableRows, type TransferProgress } from './export';
import type { Footer, Header, Row } from './format';
import type { TransferKeys } from './protect';
import { scanFile } from './read';
import { REDACTED } from './sanitize';
import { TENANT_TABLES, tableSpec, type TableName } from './tables';

const log = createLogger('transfer');

export const CONFLICT_POLICIES = ['fail', 'skip', 'overwrite'] as const;
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

export interface ImportOptions {
  /** What to do when the target already has the customer. @default 'fail' */
  onConflict?: ConflictPolicy;
  /** Stage and commit inside a transaction that is rolled back: reports what would happen, changes nothing. */
  dryRun?: boolean;
  /** Compare the target with the file after the commit (row counts and per-table digests). @default false */
  validate?: boolean;
  /** Rows per staging call. @default 1000 */
  batchRows?: number;
  /** Upper bound of a staging call's JSON size, in characters. @default 4 MiB */
  batchChars?: number;
  /** Names the target in messages. @default the backend kind */
  label?: string;
  onProgress?: (progress: TransferProgress) => void;
  /** Import the file's memberships (customer_members) too; else the target's are kept. @default false */
  importMembers?: boolean;
  /** With a signing key, only files signed with it are read; with an encryption key, encrypted files can be. */
  keys?: TransferKeys;
}

export interface ImportResult {
  customerId: string;
  customerExisted: boolean;
  dryRun: boolean;
  /** Rows written per table (on a dry run: that would be written). */
  written: Partial<Record<TableName, number>>;
  /** Rows of the file left out because they collided with existing rows (skip policy). */
  skipped: Partial<Record<TableName, number>>;
  /** Membership rows of the file not imported (without `importMembers`). */
  membersLeftOut: number;
  header: Header;
  footer: Footer;
}

/**
 * The customers row as the target gets it: a redacted widget key keeps the key the target already
 * has for the customer, or is left out so the target generates a new one.
 */
function withTargetKey(row: Row, existing: Customer | null): Row {
  if (row.public_key !== REDACTED) return row;
  const staged = { ...row };
  if (existing) staged.public_key = existing.publicKey;
  else delete staged.public_key;
  return staged;
}

/**
 * Import the transfer file `file` into `db` in one pass over the file: rows are staged as they are
 * read (one staging call in flight while the next batch is read), and the import is committed only
 * once the scan has verified the whole file (structure, signature, checksums). Whatever fails — the
 * file or the target — the staged rows are dropped and nothing is committed; the file's own errors
 * are reported first, as a verification before staging would have reported them.
 */
export async function importFile(db: Db, file: string, options: ImportOptions = {}): Promise<ImportResult> {
  const { onConflict = 'fail', dryRun = false, batchRows = 1000, batchChars = 4 * 1024 * 1024, onProgress, importMembers = false, keys = {} } = options;
  const label = options.label ?? db.kind;
  const total = (footer: Footer) => Object.values(footer.tables).reduce((a, t) => a + t.rows, 0);

  const importId = crypto.randomUUID();
  let begun: { customer: Customer | null } | undefined;
  /** The first failure on the target's side: staging stops, the scan goes on to judge the file. */
  let failure: unknown;
  let batch: Row[] = [];
  let batchTable: TableName | null = null;
  let chars = 0;
  let done = 0;
  const seq = new Map<TableName, number>();
  let membersLeftOut = 0;
  let membersStaged = 0;
  /** The staging call in flight (at most one), which records its failure rather than throwing it. */
  let inFlight: Promise<void> = Promise.resolve();
  const abort = async () => {
    if (!begun) return;
    try {
      await db.rpc('transfer_import_abort', { importId });
    } catch (error) {
      // The staged rows are invisible to the app and swept after a day; the import's own failure
      // is what the caller needs to see.
      log.warn(`could not drop staged import ${importId} on ${label}: ${(error as Error).message}`);
    }
  };
  const flush = async () => {
    await inFlight;
    if (!batchTable || batch.length === 0 || failure !== undefined) return;
    const [table, rows, firstSeq] = [batchTable, batch, (seq.get(batchTable) ?? 0) + 1];
    seq.set(table, firstSeq + rows.length - 1);
    batch = [];
    chars = 0;
    inFlight = transferRpc(db, label, 'transfer_import_stage', { importId, table, firstSeq, rows }).then(
      () => {
        done += rows.length;
        onProgress?.({ phase: 'stage', table, done, total: null });
      },
      (error: unknown) => {
        failure ??= error;
      },
    );
  };
  const stage = async (table: TableName, staged: Row, size: number) => {
    if (failure !== undefined) return;
    if (table !== batchTable) await flush();
    batchTable = table;
    batch.push(staged);
    chars += size;
    if (batch.length >= batchRows || chars >= batchChars) await flush();
  };

  onProgress?.({ phase: 'stage', table: null, done: 0, total: null });
  let verified: Awaited<ReturnType<typeof scanFile>>;
  try {
    verified = await scanFile(
      file,
      {
        onHeader: async (header) => {
          try {
            begun = await transferRpc<{ customer: Customer | null }>(db, label, 'transfer_import_begin', { importId, customerId: header.customerId });
          } catch (error) {
            failure = error;
            return;
          }
          if (begun.customer && onConflict === 'fail') {
            failure = new TransferError(
              'customer_exists',
              `${label} already has customer ${header.customerId} (${begun.customer.name}); choose --on-conflict skip (keep its rows, add the file's) or overwrite (replace them with the file's)`,
            );
          }
        },
        onRow: async (table, row, size) => {
          if (table === 'customer_members' && !importMembers) {
            membersLeftOut++;
            return;
          }
          await stage(table, table === 'customers' ? withTargetKey(row, begun?.customer ?? null) : row, size);
        },
      },
      keys,
    );
    await flush();
    await inFlight;
  } catch (error) {
    await inFlight;
    await abort();
    throw error;
  }
  const { header, footer } = verified;
  const customerId = header.customerId;

  try {
    if (failure !== undefined) throw failure;
    if (!importMembers) {
      // The target's own memberships in place of the file's (none when it has no such customer).
      for await (const row of tableRows(db, customerId, tableSpec('customer_members'), label)) {
        await stage('customer_members', row, JSON.stringify(row).length);
        membersStaged++;
      }
      await flush();
      await inFlight;
      if (failure !== undefined) throw failure;
    }

    onProgress?.({ phase: 'commit', table: null, done, total: total(footer) });
    const result = await transferRpc<Pick<ImportResult, 'customerExisted' | 'dryRun' | 'written' | 'skipped'>>(
      db,
      label,
      'transfer_import_commit',
      {
        importId,
        onConflict,
        dryRun,
        tables: TENANT_TABLES.map((t) => ({
          table: t.name,
          rows: t.name === 'customer_members' && !importMembers ? membersStaged : (footer.tables[t.name]?.rows ?? 0),
          derived: 'derived' in t && t.derived,
          omit: 'omit' in t ? t.omit : [],
        })),
      },
    );
    if (dryRun) await abort();
    if (options.validate && !dryRun) await validateTarget(db, header, footer, { label, onProgress, importMembers });
    return { customerId, ...result, membersLeftOut, header, footer };
  } catch (error) {
    await abort();
    throw error;
  }
}

/**
 * Compare what the target holds for the file's customer with the file: row counts and digests of
 * every table must be equal (memberships only when they were imported: else the target keeps its
 * own). Throws `TransferError` 'validation' naming the tables that differ.
 */
export async function validateTarget(
  db: Db,
  header: Header,
  footer: Footer,
  {
    label = db.kind,
    onProgress,
    importMembers = false,
  }: { label?: string; onProgress?: (progress: TransferProgress) => void; importMembers?: boolean } = {},
): Promise<void> {
  const actual = await digestCustomer(db, header.customerId, {
    includeSecrets: header.options.secrets === 'included',
    label,
    onProgress,
    phase: 'validate',
  });
  const diffs = differences(footer, actual).filter((d) => importMembers || !d.startsWith('customer_members:'));
  // The overall digest covers the memberships too: compared only when they were imported.
  if (diffs.length > 0 || (importMembers && actual.sha256 !== footer.sha256)) {
    throw new TransferError('validation', `${label} does not hold what the file holds for customer ${header.customerId}: ${diffs.join('; ')}`);
  }
}
