/**
 * Checksums of a customer's data, independent of the backend it was read from.
 *
 * A row's canonical form is its JSON with object keys sorted at every level and no whitespace
 * (values as JSON.parse/JSON.stringify render them, so `1.50` from one backend and `1.5` from
 * another agree). A table's digest is SHA-256 over `name`, the row count and the sum modulo 2²⁵⁶
 * of the rows' SHA-256: order-independent (PostgreSQL orders text by its collation, PGlite by
 * bytes) and computed in one pass with constant memory. It detects any changed, added, removed or
 * duplicated row; like any unkeyed checksum it proves integrity, not authorship.
 */
import crypto from 'node:crypto';
import { FORMAT, FORMAT_VERSION, type Row, type Summary } from './format';
import { TENANT_TABLES, type TableName } from './tables';

/** Keys in canonical order: sorted by UTF-16 code units, as `<` compares strings. */
function sortedKeys(value: object): string[] {
  return Object.keys(value).sort();
}

/**
 * The canonical JSON of a value (keys sorted at every level, no whitespace, `undefined` members
 * left out as JSON.stringify leaves them out). Written with plain loops: an export and an import
 * compute it once per row.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item = canonicalJson(value[i]) as string | undefined; // undefined for what JSON cannot hold, as join() renders it
      out += (i > 0 ? ',' : '') + (item ?? '');
    }
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  const record = value as Record<string, unknown>;
  for (const key of sortedKeys(record)) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
    first = false;
  }
  return `${out}}`;
}

const sha256 = (text: string) => crypto.hash('sha256', text);

/** A 256-bit sum modulo 2²⁵⁶ in eight 32-bit limbs, most significant first (as the digest's bytes). */
class Sum256 {
  private readonly limbs = new Uint32Array(8);

  /** Adds the 32 bytes of a SHA-256 digest read as a big-endian number. */
  add(digest: Buffer): void {
    let carry = 0;
    for (let i = 7; i >= 0; i--) {
      const total = this.limbs[i]! + digest.readUInt32BE(i * 4) + carry;
      this.limbs[i] = total >>> 0;
      carry = total > 0xffffffff ? 1 : 0;
    }
  }

  hex(): string {
    return Array.from(this.limbs, (limb) => limb.toString(16).padStart(8, '0')).join('');
  }
}

export class DataDigest {
  private readonly sums = new Map<TableName, { rows: number; sum: Sum256 }>(
    TENANT_TABLES.map((t) => [t.name, { rows: 0, sum: new Sum256() }]),
  );

  constructor(private readonly customerId: string) {}

  add(table: TableName, row: Row): void {
    this.addCanonical(table, canonicalJson(row));
  }

  /** Adds a row given as its canonical JSON (`canonicalJson(row)`, computed once by the caller). */
  addCanonical(table: TableName, canonical: string): void {
    const entry = this.sums.get(table)!;
    entry.rows++;
    entry.sum.add(crypto.hash('sha256', canonical, 'buffer'));
  }

  rows(table: TableName): number {
    return this.sums.get(table)!.rows;
  }

  summary(): Summary {
    const tables = Object.fromEntries(
      TENANT_TABLES.map(({ name }) => {
        const { rows, sum } = this.sums.get(name)!;
        return [name, { rows, sha256: sha256(`${name}\n${rows}\n${sum.hex()}`) }];
      }),
    ) as Summary['tables'];
    const lines = TENANT_TABLES.map(({ name }) => `${name}\t${tables[name]!.rows}\t${tables[name]!.sha256}\n`);
    return { tables, sha256: sha256(`${FORMAT}/${FORMAT_VERSION}\n${this.customerId}\n${lines.join('')}`) };
  }
}

/** The tables whose row count or digest differ between two summaries (empty: identical data). */
export function differences(expected: Summary, actual: Summary): string[] {
  return TENANT_TABLES.flatMap(({ name }) => {
    const e = expected.tables[name];
    const a = actual.tables[name];
    if (e?.rows !== a?.rows) return [`${name}: ${e?.rows ?? 0} rows expected, ${a?.rows ?? 0} found`];
    if (e?.sha256 !== a?.sha256) return [`${name}: same ${e?.rows ?? 0} rows, different content`];
    return [];
  });
}
