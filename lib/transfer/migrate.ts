/**
 * Migrate = export from the source → (optional) backup of what the target holds for the customer →
 * import into the target → validate (row counts and per-table digests of the target equal the
 * file's). A backup is itself a transfer file; `rollbackFromBackup` puts it back: the customer's
 * data as it was, or no customer at all when the target did not have it before.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Db } from '@/lib/db/types';
import { transferRpc } from './errors';
import { exportToFile, type ExportResult, type TransferProgress } from './export';
import { importFile, validateTarget, type ConflictPolicy, type ImportResult } from './import';
import type { TransferKeys } from './protect';
import { verifyFile } from './read';

export interface Endpoint {
  db: Db;
  /** Names the backend in messages (never a password). */
  label: string;
}

export interface MigrateOptions {
  customerId: string;
  /** Keep the export here; @default a temporary file, removed afterwards */
  file?: string;
  /** Save the target's current data for the customer here before importing (for `rollbackFromBackup`). */
  backup?: string;
  onConflict?: ConflictPolicy;
  dryRun?: boolean;
  /** Carry the widget key over (else the target keeps its own or generates one). @default false */
  includeSecrets?: boolean;
  /** Carry the memberships over (else the target keeps its own; see ./import.ts). @default false */
  importMembers?: boolean;
  /** The export, the backup and the import are signed / encrypted with these (./protect.ts). */
  keys?: TransferKeys;
  onProgress?: (progress: TransferProgress) => void;
}

export interface MigrateResult {
  exported: ExportResult;
  backup: ExportResult | null;
  imported: ImportResult;
  /** False only on a dry run (nothing to validate). */
  validated: boolean;
}

export async function migrateCustomer(source: Endpoint, target: Endpoint, options: MigrateOptions): Promise<MigrateResult> {
  const { customerId, onProgress, keys, importMembers } = options;
  const scratch = options.file ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-transfer-'));
  const file = options.file ?? path.join(scratch!, `${customerId}.ndjson`);
  try {
    const exported = await exportToFile(source.db, customerId, file, {
      includeSecrets: options.includeSecrets,
      label: source.label,
      onProgress,
      keys,
    });
    // A backup carries the widget key: a rollback must give back the key the customer's site embeds.
    const backup = options.backup
      ? await exportToFile(target.db, customerId, options.backup, {
          includeSecrets: true,
          allowMissing: true,
          label: target.label,
          onProgress,
          phase: 'backup',
          keys,
        })
      : null;
    const imported = await importFile(target.db, file, {
      onConflict: options.onConflict,
      dryRun: options.dryRun,
      label: target.label,
      onProgress,
      importMembers,
      keys,
    });
    if (!options.dryRun) {
      await validateTarget(target.db, exported.header, exported.footer, { label: target.label, onProgress, importMembers });
    }
    return { exported, backup, imported, validated: !options.dryRun };
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

export interface RollbackResult {
  customerId: string;
  /** 'restored': the backup's data replaced the customer's; 'deleted': the target had no such customer before. */
  action: 'restored' | 'deleted';
  dryRun: boolean;
}

/**
 * Put a backup taken by `migrateCustomer` back into the target (its memberships only with
 * `importMembers`; else the target's current ones stay).
 */
export async function rollbackFromBackup(
  target: Endpoint,
  backup: string,
  {
    dryRun = false,
    onProgress,
    importMembers,
    keys,
  }: { dryRun?: boolean; onProgress?: (progress: TransferProgress) => void; importMembers?: boolean; keys?: TransferKeys } = {},
): Promise<RollbackResult> {
  const { header, footer } = await verifyFile(backup, keys);
  const customerId = header.customerId;
  if ((footer.tables.customers?.rows ?? 0) === 0) {
    if (!dryRun) await transferRpc(target.db, target.label, 'transfer_customer_delete', { customerId });
    return { customerId, action: 'deleted', dryRun };
  }
  await importFile(target.db, backup, { onConflict: 'overwrite', dryRun, validate: !dryRun, label: target.label, onProgress, importMembers, keys });
  return { customerId, action: 'restored', dryRun };
}
