/**
 * Reading a transfer file: every line parsed with the zod schemas of ./format.ts, the structure
 * checked (one header first, rows grouped by table in TENANT_TABLES order and all of the header's
 * customer, one footer last), and the checksums recomputed and compared with the footer's.
 *
 * An import scans a file once: it stages the rows as they are read (in private tables, invisible
 * to the app) and commits them only after the scan has proved the whole file intact; a file that
 * fails any check is never committed, and its staged rows are dropped.
 *
 * Encrypted files are authenticated whole before the first line is parsed, signatures checked
 * before the checksums, and every line bounded in length and nesting (./protect.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { z } from 'zod';
import { DataDigest, differences } from './digest';
import { TransferError } from './errors';
import { footerSchema, headerSchema, rowLineSchema, type Footer, type Header, type Row } from './format';
import { MAX_JSON_DEPTH, Signer, boundedLines, checkSignature, nestedDeeperThan, plaintextOf, type TransferKeys } from './protect';
import { TABLE_NAMES, customerColumnOf, type TableName } from './tables';

export interface VerifiedFile {
  header: Header;
  footer: Footer;
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(line)'}: ${issue.message}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** What a scan reports as it goes (awaited: backpressure for the importer). */
export interface ScanHandlers {
  /** The header, once read and valid, before any row. */
  onHeader?: (header: Header) => Promise<void> | void;
  /** Every row, in file order, with the length of its line (what it costs to send). */
  onRow?: (table: TableName, row: Row, chars: number) => Promise<void> | void;
}

const TABLES = new Set<string>(TABLE_NAMES);

/**
 * A row line as `rowLineSchema` reads it, checked without zod: a line of JSON.parse is JSON all
 * through, so what remains is the shape (exactly type, table and row; a known table; an object).
 * Undefined when the shape is wrong: zod then says what is wrong with it.
 */
function rowLineOf(value: unknown): { table: TableName; row: Row } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const line = value as Record<string, unknown>;
  const { type, table, row } = line;
  if (type !== 'row' || typeof table !== 'string' || !TABLES.has(table) || Object.keys(line).length !== 3) return undefined;
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return undefined;
  return { table: table as TableName, row: row as Row };
}

/**
 * Scan `file`, calling the handlers for the header and every row (awaited), and return
 * its header and footer once everything checked out. Throws `TransferError` 'format' for a file
 * that is not a well-formed transfer file and 'checksum' for one whose content does not match its
 * checksums. A damaged row line counts as a checksum failure when the file digest disagrees too
 * (one changed byte anywhere before the footer is reported as such). With a signing key, a file
 * without this key's signature is a 'signature' failure; an encrypted file that fails
 * authentication (or has no key) a 'decrypt' one; a line too long or nested too deep a 'format'
 * one, at once.
 */
export async function scanFile(
  file: string,
  { onHeader, onRow }: ScanHandlers = {},
  keys: TransferKeys = {},
): Promise<VerifiedFile> {
  try {
    await fs.promises.access(file, fs.constants.R_OK);
  } catch (error) {
    throw new TransferError('format', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const lines = boundedLines(await plaintextOf(file, keys), file);
  const fileHash = crypto.createHash('sha256');
  const signer = keys.signingKey ? new Signer(keys.signingKey) : undefined;
  let header: Header | undefined;
  let digest: DataDigest | undefined;
  let footer: Footer | undefined;
  let tableIndex = 0;
  let number = 0;
  /** The first problem with a row line: a format error, unless the file digest shows tampering. */
  let damaged: string | undefined;
  const formatError = (message: string) => new TransferError('format', `${file}: line ${number}: ${message}`);
  // Problems with the header or a row are held until the file digest is known: with a digest that
  // disagrees they are damage (checksum), with one that agrees the file was written wrong (format).

  try {
    for await (const text of lines) {
      number++;
      if (footer) {
        if (text.trim() === '') continue;
        throw formatError('content after the footer');
      }
      if (nestedDeeperThan(text)) throw formatError(`nested deeper than ${MAX_JSON_DEPTH} levels: not a transfer file of this app (refused unread)`);
      const value = parseJson(text);
      if (number > 1 && (value as { type?: unknown } | undefined)?.type === 'footer') {
        const parsed = footerSchema.safeParse(value);
        if (!parsed.success) throw formatError(`invalid footer (${describe(parsed.error)})`);
        footer = parsed.data;
        continue;
      }
      fileHash.update(`${text}\n`);
      signer?.update(`${text}\n`);
      if (damaged) continue;
      const problem = number === 1 ? readHeader(value) : await readRow(value, text.length);
      if (problem) damaged = `line ${number}: ${problem}`;
      else if (number === 1) await onHeader?.(header!);
    }
  } finally {
    await lines.return(undefined);
  }

  function readHeader(value: unknown): string | undefined {
    const parsed = headerSchema.safeParse(value);
    if (!parsed.success) return value === undefined ? 'not JSON: not a transfer file' : `not a transfer header (${describe(parsed.error)})`;
    header = parsed.data;
    digest = new DataDigest(header.customerId);
    return undefined;
  }

  async function readRow(value: unknown, chars: number): Promise<string | undefined> {
    let rowLine = rowLineOf(value);
    if (!rowLine) {
      const parsed = rowLineSchema.safeParse(value);
      if (!parsed.success) return value === undefined ? 'not JSON' : describe(parsed.error);
      rowLine = parsed.data;
    }
    const { table, row } = rowLine;
    const index = TABLE_NAMES.indexOf(table);
    if (index < tableIndex) return `a ${table} row after the rows of ${TABLE_NAMES[tableIndex]}: tables out of order`;
    tableIndex = index;
    const owner = row[customerColumnOf(table)];
    if (owner !== header!.customerId) return `a ${table} row of customer ${String(owner)} in a file of customer ${header!.customerId}`;
    digest!.add(table, row);
    await onRow?.(table, row, chars);
    return undefined;
  }

  if (number === 0) throw new TransferError('format', `${file}: empty file: not a transfer file`);
  if (!footer) {
    throw new TransferError('format', `${file}: ${header ? 'no footer: the file is truncated (an export that did not finish)' : damaged}`);
  }
  // Origin before integrity: a forged file comes with checksums that match.
  if (signer) checkSignature(file, signer, footer.signature, keys.signingKey!);
  const fileDigest = fileHash.digest('hex');
  if (fileDigest !== footer.fileSha256) {
    throw new TransferError(
      'checksum',
      `${file}: checksum mismatch: the file's content is not what was exported (changed or corrupted)${damaged ? `; first damage at ${damaged}` : ''}`,
    );
  }
  if (damaged || !header || !digest) throw new TransferError('format', `${file}: ${damaged ?? 'no header'}`);
  const actual = digest.summary();
  const diffs = differences(footer, actual);
  if (diffs.length > 0 || actual.sha256 !== footer.sha256) {
    throw new TransferError('checksum', `${file}: checksum mismatch: ${diffs.join('; ') || 'data checksum differs'}`);
  }
  return { header, footer };
}

/** Prove a file intact (and, with a signing key, signed with it) without writing anything. */
export function verifyFile(file: string, keys: TransferKeys = {}): Promise<VerifiedFile> {
  return scanFile(file, {}, keys);
}
