/**
 * Export: a customer's rows read through the `Db` port one keyset page at a time (one RPC per page
 * of at most `pageSize` rows), sanitised, and written as NDJSON lines while the checksums are
 * accumulated. Memory holds one page, whatever the size of the tenant.
 *
 * An export is consistent per page, not a snapshot of the whole customer: the Data API gives no
 * session that could hold one snapshot across calls. Rows written while an export runs may or may
 * not be in it; for an exact copy, export a quiet customer (a row whose parent arrived after the
 * parent's table was read is refused by the import, never written half).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getCustomer } from '@/lib/customers';
import type { Db } from '@/lib/db/types';
import { DataDigest, canonicalJson } from './digest';
import { TransferError, fromDbError, transferRpc } from './errors';
import { FORMAT, FORMAT_VERSION, line, rowLine, type Footer, type Header, type Row, type Summary } from './format';
import { Signer, seal, type TransferKeys } from './protect';
import { REDACTED, isSecretName, sanitizeRow, scrub } from './sanitize';
import { TENANT_TABLES, selection, type TableName, type TenantTable } from './tables';

const REDACTED_JSON = JSON.stringify(REDACTED);

/** Rows per export RPC (a keyset page). */
export const PAGE_SIZE = 1000;

export interface TransferProgress {
  phase: 'export' | 'backup' | 'stage' | 'commit' | 'validate';
  table: TableName | null;
  /** Rows done in this phase so far. */
  done: number;
  /** Rows this phase will handle, when known. */
  total: number | null;
}

export interface ExportOptions {
  /** Write secret columns (the widget key) as they are instead of "[REDACTED]". @default false */
  includeSecrets?: boolean;
  /** Rows per RPC. @default 1000 */
  pageSize?: number;
  /** A customer the source does not have exports as an empty file (a backup of "absent") instead of failing. @default false */
  allowMissing?: boolean;
  /** Names the source in messages. @default the backend kind */
  label?: string;
  onProgress?: (progress: TransferProgress) => void;
  /** @default 'export' */
  phase?: TransferProgress['phase'];
  /** Sign (EXPORT_SIGNING_KEY) and/or encrypt (EXPORT_ENCRYPTION_KEY) the file (./protect.ts). @default neither */
  keys?: TransferKeys;
}

interface InventoryEntry {
  id: string;
  rows: Partial<Record<TableName, number>>;
}

/** Row counts per table of one customer (or of all), counted as an export selects rows. */
export async function inventory(db: Db, label: string, customerId?: string): Promise<(InventoryEntry & { name: string; plan: string })[]> {
  return transferRpc(db, label, 'transfer_inventory', { tables: TENANT_TABLES.map(selection), customerId });
}

/** A keyset page as the database sends it: column names, and each row's values in that order. */
interface ColumnarPage {
  columns: string[];
  rows: unknown[][];
}

/**
 * The customer's rows of one table, as the database has them, one keyset page (one RPC) at a time.
 * The next page is requested as soon as a page arrives (its cursor is the page's last row), so the
 * database reads it while the caller works on this one: two pages in memory at most.
 */
async function* columnarPages(db: Db, customerId: string, table: TenantTable, label: string, pageSize = PAGE_SIZE): AsyncGenerator<ColumnarPage> {
  const fetchPage = async (after: unknown[] | null): Promise<ColumnarPage> => {
    const page = await transferRpc<ColumnarPage | Row[]>(db, label, 'transfer_export_page', {
      customerId,
      table: table.name,
      key: table.key,
      after,
      limit: pageSize,
      omit: table.omit ?? [],
      skip: table.skip,
      columnar: true,
    });
    if (!Array.isArray(page)) return page;
    // A source whose schema predates 20261202120000 ignores `columnar` and sends objects (all of
    // a page with the same keys: to_jsonb of the same columns).
    const columns = Object.keys(page[0] ?? {});
    return { columns, rows: page.map((row) => columns.map((column) => row[column])) };
  };
  // Marked handled at once: a page read ahead may fail while the caller is still busy (or gone);
  // awaiting it below still throws that failure.
  const readAhead = (after: unknown[] | null): Promise<ColumnarPage> => {
    const page = fetchPage(after);
    page.catch(() => undefined);
    return page;
  };
  let next: Promise<ColumnarPage> | null = readAhead(null);
  while (next) {
    const page: ColumnarPage = await next;
    const last = page.rows.length === pageSize ? page.rows[pageSize - 1]! : undefined;
    next = last ? readAhead(table.key.map((column) => last[page.columns.indexOf(column)])) : null;
    if (page.rows.length > 0) yield page;
  }
}

/** A row of a columnar page as an object. */
function rowOf(columns: string[], values: unknown[]): Row {
  const row: Row = {};
  for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
  return row;
}

/** The customer's rows of one table, as the database has them, one keyset page at a time. */
export async function* tablePages(db: Db, customerId: string, table: TenantTable, label: string, pageSize = PAGE_SIZE): AsyncGenerator<Row[]> {
  for await (const { columns, rows } of columnarPages(db, customerId, table, label, pageSize)) {
    yield rows.map((values) => rowOf(columns, values));
  }
}

/**
 * `canonicalJson(sanitizeRow(table, row))` of every row of a page, without building the rows:
 * the columns are sorted, and their names judged, once per page.
 */
export function sanitizedCanonical(table: TenantTable, { columns, rows }: ColumnarPage, includeSecrets: boolean): string[] {
  const order = columns.map((_, i) => i).sort((a, b) => (columns[a]! < columns[b]! ? -1 : columns[a]! > columns[b]! ? 1 : 0));
  const prefixes = order.map((i, k) => `${k === 0 ? '{' : ','}${JSON.stringify(columns[i])}:`);
  const secretName = order.map((i) => isSecretName(columns[i]!));
  const secretColumn = order.map((i) => (table.secretColumns ?? []).includes(columns[i]!));
  return rows.map((values) => {
    let out = '';
    for (let k = 0; k < order.length; k++) {
      const value = values[order[k]!];
      if (value === undefined) {
        // Not from the database (every column has a value, null at least): the general way.
        return canonicalJson(sanitizeRow(table, rowOf(columns, values), { includeSecrets }));
      }
      let text: string;
      if (value === null) text = 'null';
      else if (secretColumn[k]) text = includeSecrets ? canonicalJson(value) : REDACTED_JSON;
      else if (secretName[k]) text = REDACTED_JSON;
      else text = canonicalJson(typeof value === 'object' ? scrub(value) : value);
      out += prefixes[k]! + text;
    }
    return order.length === 0 ? '{}' : `${out}}`;
  });
}

/** Every row of the customer in one table, as the database has them. */
export async function* tableRows(db: Db, customerId: string, table: TenantTable, label: string, pageSize = PAGE_SIZE): AsyncGenerator<Row> {
  for await (const page of tablePages(db, customerId, table, label, pageSize)) yield* page;
}

/** A page of rows as they may leave the database (sanitised), as their canonical JSON. */
interface ExportedPage {
  table: TableName;
  /** canonicalJson of each row: what the checksums hash, and what the file writes. */
  canonical: string[];
}

/** The customer's rows as they may leave the database (sanitised), page by page, with progress reporting. */
async function* exportedPages(db: Db, customerId: string, options: ExportOptions): AsyncGenerator<ExportedPage> {
  const label = options.label ?? db.kind;
  const { onProgress, phase = 'export' } = options;
  const includeSecrets = options.includeSecrets ?? false;
  let total: number | null = null;
  if (onProgress) {
    const [entry] = await inventory(db, label, customerId);
    total = Object.values(entry?.rows ?? {}).reduce((a, b) => a + b, 0);
  }
  let done = 0;
  for (const table of TENANT_TABLES as readonly TenantTable[]) {
    for await (const page of columnarPages(db, customerId, table, label, options.pageSize)) {
      yield { table: table.name as TableName, canonical: sanitizedCanonical(table, page, includeSecrets) };
      done += page.rows.length;
      onProgress?.({ phase, table: table.name as TableName, done, total });
    }
  }
  onProgress?.({ phase, table: null, done, total });
}

async function requireCustomer(db: Db, customerId: string, label: string, allowMissing: boolean): Promise<void> {
  let customer;
  try {
    customer = await getCustomer(db, customerId);
  } catch (error) {
    throw fromDbError(error, label);
  }
  if (!customer && !allowMissing) throw new TransferError('unknown_customer', `${label} has no customer ${customerId}`);
}

/**
 * The export as NDJSON text in chunks of whole lines (the header, the rows of one page per chunk,
 * the footer; the footer signed with `keys.signingKey`), in clear: `protectedChunks` encrypts them.
 * A row is written as its canonical JSON (keys sorted), the text its checksum hashes. Fails before the first line for an unknown customer; a
 * failure later ends the lines early, so the output has no footer and no import accepts it.
 */
export async function* exportLines(db: Db, customerId: string, options: ExportOptions = {}): AsyncGenerator<string, Footer> {
  const label = options.label ?? db.kind;
  await requireCustomer(db, customerId, label, options.allowMissing ?? false);
  const health = await transferRpc<{ now: string; schemaVersion: string | null }>(db, label, 'system_health', {});
  const header: Header = {
    type: 'header',
    format: FORMAT,
    version: FORMAT_VERSION,
    customerId,
    source: { kind: db.kind, schemaVersion: health.schemaVersion },
    exportedAt: new Date(health.now).toISOString(),
    options: { secrets: options.includeSecrets ? 'included' : 'redacted' },
  };
  const file = crypto.createHash('sha256');
  const signer = options.keys?.signingKey ? new Signer(options.keys.signingKey) : undefined;
  const digest = new DataDigest(customerId);
  const first = line(header);
  file.update(first);
  signer?.update(first);
  yield first;
  for await (const { table, canonical } of exportedPages(db, customerId, options)) {
    // The row's canonical JSON is what the checksums hash; written as the row, it is computed once.
    let chunk = '';
    for (const text of canonical) {
      digest.addCanonical(table, text);
      chunk += rowLine(table, text);
    }
    file.update(chunk);
    signer?.update(chunk);
    yield chunk;
  }
  const footer: Footer = {
    type: 'footer',
    ...digest.summary(),
    fileSha256: file.digest('hex'),
    ...(signer ? { signature: signer.signature() } : {}),
  };
  yield line(footer);
  return footer;
}

export interface ExportResult {
  file: string;
  header: Header;
  footer: Footer;
  bytes: number;
}

/**
 * Export to `file`, written under a temporary name and renamed when complete, so `file` is never a
 * partial export.
 */
export async function exportToFile(db: Db, customerId: string, file: string, options: ExportOptions = {}): Promise<ExportResult> {
  const target = path.resolve(file);
  const partial = `${target}.partial-${process.pid}`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const lines = exportLines(db, customerId, options);
  let header: Header | undefined;
  let footer: Footer | undefined;
  async function* capture(): AsyncGenerator<string> {
    for (;;) {
      const next = await lines.next();
      if (next.done) {
        footer = next.value;
        return;
      }
      header ??= JSON.parse(next.value) as Header;
      yield next.value;
    }
  }
  try {
    await pipeline(Readable.from(protectedChunks(capture(), options.keys)), fs.createWriteStream(partial, { mode: 0o600 }));
    fs.renameSync(partial, target);
  } catch (error) {
    fs.rmSync(partial, { force: true });
    throw error;
  }
  return { file: target, header: header!, footer: footer!, bytes: fs.statSync(target).size };
}

/** The file's bytes: the lines as they are, or sealed with `keys.encryptionKey` (./protect.ts). */
export function protectedChunks(lines: AsyncIterable<string>, keys: TransferKeys = {}): AsyncIterable<string | Buffer> {
  return keys.encryptionKey ? seal(lines, keys.encryptionKey) : lines;
}

/** The checksums of what an export of the customer would contain now, without writing it (validation). */
export async function digestCustomer(db: Db, customerId: string, options: ExportOptions = {}): Promise<Summary> {
  const digest = new DataDigest(customerId);
  for await (const { table, canonical } of exportedPages(db, customerId, options)) {
    for (const text of canonical) digest.addCanonical(table, text);
  }
  return digest.summary();
}
