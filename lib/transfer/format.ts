/**
 * The portable format: NDJSON, one JSON object per line —
 *
 *   {"type":"header","format":"omniops-transfer","version":1,"customerId":…,"source":…,"exportedAt":…,"options":…}
 *   {"type":"row","table":"customers","row":{…}}          one line per row, tables in TENANT_TABLES order
 *   …
 *   {"type":"footer","tables":{"messages":{"rows":n,"sha256":…},…},"sha256":…,"fileSha256":…}
 *
 * Why NDJSON rather than one JSON document: a tenant with a million messages is written and read
 * one line at a time with flat memory (a JSON document must be held whole, or parsed with a
 * streaming parser that still has to know where it is), a truncated file is obvious (no footer),
 * and the lines are greppable. The metadata is a footer because counts and hashes are only known
 * once every row has been read; an import stages rows as it reads them and commits only once the
 * footer has verified them all.
 *
 * Checksums (see ./digest.ts): per table, SHA-256 over the table name, its row count and the sum of
 * the SHA-256 of each row's canonical JSON (object keys sorted, no whitespace; an export writes
 * each row in that form, a reader accepts any key order and recomputes it); `sha256` over the
 * format, the customer and every table's line; `fileSha256` over the exact bytes of the header and
 * row lines; with EXPORT_SIGNING_KEY, `signature` is an HMAC over those same bytes (./protect.ts:
 * checksums prove integrity, the signature origin). The table digests do not depend on row order, so the same data exported from PGlite,
 * PostgreSQL or Supabase (whose text collations order keys differently) has the same checksums.
 */
import { z } from 'zod';
import { TABLE_NAMES } from './tables';

export const FORMAT = 'omniops-transfer';
export const FORMAT_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lower-case hex SHA-256');

export const headerSchema = z
  .object({
    type: z.literal('header'),
    format: z.literal(FORMAT),
    version: z.literal(FORMAT_VERSION),
    customerId: z.guid(),
    source: z
      .object({
        kind: z.enum(['supabase', 'postgres', 'pglite']),
        /** The newest migration applied to the source (informative). */
        schemaVersion: z.string().nullable(),
      })
      .strict(),
    exportedAt: z.iso.datetime({ offset: true }),
    options: z
      .object({
        /** Whether secret columns (the widget key) are in the file or "[REDACTED]". */
        secrets: z.enum(['included', 'redacted']),
      })
      .strict(),
  })
  .strict();
export type Header = z.infer<typeof headerSchema>;

export type Row = Record<string, unknown>;

export const rowLineSchema = z
  .object({
    type: z.literal('row'),
    table: z.enum(TABLE_NAMES),
    row: z.record(z.string(), z.json()),
  })
  .strict();
export type RowLine = z.infer<typeof rowLineSchema>;

export const tableSummarySchema = z.object({ rows: z.number().int().min(0), sha256: sha256Hex }).strict();

/** HMAC-SHA256 under EXPORT_SIGNING_KEY of every byte before the footer (./protect.ts). */
export const signatureSchema = z
  .object({
    alg: z.literal('HMAC-SHA256'),
    /** Names the key (a one-way hash of it), so a wrong key is reported as such. */
    keyId: z.string().regex(/^[0-9a-f]{16}$/),
    value: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type Signature = z.infer<typeof signatureSchema>;

export const footerSchema = z
  .object({
    type: z.literal('footer'),
    tables: z.record(z.enum(TABLE_NAMES), tableSummarySchema),
    /** Over the data: the format, the customer and every table's row count and digest. */
    sha256: sha256Hex,
    /** Over the exact bytes of every line before this one. */
    fileSha256: sha256Hex,
    /** Present when exported with EXPORT_SIGNING_KEY. */
    signature: signatureSchema.optional(),
  })
  .strict();
export type Footer = z.infer<typeof footerSchema>;

/** What a transfer file says it contains, and what a database holds, in the same terms. */
export type Summary = Pick<Footer, 'tables' | 'sha256'>;

/** One line of the file (newline-terminated). */
export function line(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/**
 * The line of a row given as its JSON text (the export writes each row's canonical JSON, computed
 * once for the checksums): the same text as `line({ type: 'row', table, row })`.
 */
export function rowLine(table: string, rowJson: string): string {
  return `{"type":"row","table":${JSON.stringify(table)},"row":${rowJson}}\n`;
}
