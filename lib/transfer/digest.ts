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

const MOD = 1n << 256n;

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

export class DataDigest {
  private readonly sums = new Map<TableName, { rows: number; sum: bigint }>(
    TENANT_TABLES.map((t) => [t.name, { rows: 0, sum: 0n }]),
  );

  constructor(private readonly customerId: string) {}

  add(table: TableName, row: Row): void {
    const entry = this.sums.get(table)!;
    entry.rows++;
    entry.sum = (entry.sum + BigInt(`0x${sha256(canonicalJson(row))}`)) % MOD;
  }

  rows(table: TableName): number {
    return this.sums.get(table)!.rows;
  }

  summary(): Summary {
    const tables = Object.fromEntries(
      TENANT_TABLES.map(({ name }) => {
        const { rows, sum } = this.sums.get(name)!;
        return [name, { rows, sha256: sha256(`${name}\n${rows}\n${sum.toString(16).padStart(64, '0')}`) }];
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
