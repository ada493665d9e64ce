/**
 * The transfer format without a database: credential detection, canonical JSON, order-independent
 * digests, the reader's verdicts on malformed files, and its bounds (line length, nesting).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataDigest, canonicalJson, differences } from '@/lib/transfer/digest';
import { sanitizedCanonical } from '@/lib/transfer/export';
import { FORMAT, FORMAT_VERSION, line, type Header } from '@/lib/transfer/format';
import { MAX_JSON_DEPTH, boundedLines, nestedDeeperThan } from '@/lib/transfer/protect';
import { verifyFile } from '@/lib/transfer/read';
import { REDACTED, isSecretName, sanitizeRow } from '@/lib/transfer/sanitize';
import { TENANT_TABLES, tableSpec } from '@/lib/transfer/tables';

const CUSTOMER = '00000000-0000-4000-8000-000000000001';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-transfer-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('sanitising', () => {
  it('knows credentials by the name of their key', () => {
    for (const name of ['password', 'Password', 'db_password', 'apiKey', 'api_key', 'X-Api-Key', 'Authorization', 'set-cookie',
      'Cookie', 'access_token', 'refreshToken', 'client_secret', 'privateKey', 'credentials', 'auth', 'otp', 'signature']) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ['public_key', 'session_id', 'sessionId', 'content_hash', 'author', 'authored_at', 'key', 'tokenizer_version', 'Accept', 'user_id']) {
      expect(isSecretName(name), name).toBe(false);
    }
  });

  it('redacts credentials at any depth and the widget key unless included', () => {
    const row = {
      id: CUSTOMER,
      public_key: 'pk_0123456789abcdef',
      config: { auth: { user: 'u', password: 'p' }, headers: [{ Authorization: 'Bearer x' }], depth: 2, apiKey: null },
    };
    expect(sanitizeRow(tableSpec('customers'), row, { includeSecrets: false })).toEqual({
      id: CUSTOMER,
      public_key: REDACTED,
      config: { auth: REDACTED, headers: [{ Authorization: REDACTED }], depth: 2, apiKey: null },
    });
    expect(sanitizeRow(tableSpec('customers'), row, { includeSecrets: true }).public_key).toBe('pk_0123456789abcdef');
    expect(row.config.auth.password).toBe('p'); // the input is left as it was
  });
  it('sanitises a columnar page to the same canonical JSON as row by row', () => {
    const columns = ['public_key', 'name', 'id', 'config', 'api_token', 'plan', 'Zeta', 'nothing'];
    const rows = [
      ['pk_0123456789abcdef', 'Ünïcode "quoted"', CUSTOMER, { auth: { password: 'p' }, headers: [{ Authorization: 'x', b: 1, a: [2, { secret: null }] }] }, 'tok', 'pro', 1.5, null],
      [null, 'n', CUSTOMER, { plain: true }, null, 'free', [1, 'two'], null],
      ['pk_x', '', CUSTOMER, [], { nested: 'object' }, 'pro', { z: 1, a: 2 }, false],
    ];
    for (const includeSecrets of [false, true]) {
      const expected = rows.map((values) =>
        canonicalJson(sanitizeRow(tableSpec('customers'), Object.fromEntries(columns.map((c, i) => [c, values[i]])), { includeSecrets })),
      );
      expect(sanitizedCanonical(tableSpec('customers'), { columns, rows }, includeSecrets)).toEqual(expected);
    }
    expect(sanitizedCanonical(tableSpec('customers'), { columns, rows }, false)[0]).toContain(`"api_token":"${REDACTED}"`);
  });
});

describe('checksums', () => {
  it('canonical JSON sorts keys at every level and ignores formatting', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson(JSON.parse('{"n": 1.50, "s": "\\u00fc"}'))).toBe('{"n":1.5,"s":"ü"}');
  });

  it('a table digest does not depend on row order but on every row', () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ customer_id: CUSTOMER, id: i, text: `row ${i}` }));
    const digestOf = (list: typeof rows) => {
      const d = new DataDigest(CUSTOMER);
      for (const r of list) d.add('messages', r);
      return d.summary();
    };
    const forward = digestOf(rows);
    expect(digestOf([...rows].reverse())).toEqual(forward);
    const changed = digestOf(rows.map((r, i) => (i === 7 ? { ...r, text: 'row 7!' } : r)));
    expect(differences(forward, changed)).toEqual(['messages: same 50 rows, different content']);
    expect(changed.sha256).not.toBe(forward.sha256);
    expect(differences(forward, digestOf(rows.slice(1)))).toEqual(['messages: 50 rows expected, 49 found']);
    // A duplicated row is not the same data either.
    expect(differences(forward, digestOf([...rows.slice(1), rows[2]!]))).toEqual(['messages: same 50 rows, different content']);
    expect(Object.keys(forward.tables)).toEqual(TENANT_TABLES.map((t) => t.name));
  });
  it('a table digest is SHA-256 over the name, the count and the sum modulo 2^256 of the rows\' SHA-256', () => {
    // Enough rows for the sum to wrap around 2^256 many times.
    const rows = Array.from({ length: 300 }, (_, i) => ({ customer_id: CUSTOMER, id: i, text: `row ${i} ${'x'.repeat(i % 7)}` }));
    const digest = new DataDigest(CUSTOMER);
    let sum = 0n;
    for (const row of rows) {
      digest.add('messages', row);
      sum = (sum + BigInt(`0x${crypto.createHash('sha256').update(canonicalJson(row)).digest('hex')}`)) % (1n << 256n);
    }
    const expected = crypto.createHash('sha256').update(`messages\n300\n${sum.toString(16).padStart(64, '0')}`).digest('hex');
    expect(digest.summary().tables.messages).toEqual({ rows: 300, sha256: expected });
  });
});

describe('reading a file', () => {
  const header: Header = {
    type: 'header',
    format: FORMAT,
    version: FORMAT_VERSION,
    customerId: CUSTOMER,
    source: { kind: 'pglite', schemaVersion: null },
    exportedAt: '2026-11-22T10:00:00.000Z',
    options: { secrets: 'redacted' },
  };

  /** Write a file of these lines with correct checksums; returns its path. */
  function write(name: string, rows: { table: string; row: Record<string, unknown> }[], extra = ''): string {
    const digest = new DataDigest(CUSTOMER);
    const hash = crypto.createHash('sha256');
    const lines = [line(header), ...rows.map((r) => line({ type: 'row', ...r }))];
    for (const l of lines) hash.update(l);
    for (const r of rows) if (TENANT_TABLES.some((t) => t.name === r.table)) digest.add(r.table as 'customers', r.row);
    const file = path.join(dir, name);
    fs.writeFileSync(file, lines.join('') + line({ type: 'footer', ...digest.summary(), fileSha256: hash.digest('hex') }) + extra);
    return file;
  }

  const failure = (file: string) => verifyFile(file).then(() => expect.unreachable(), (e: Error & { code: string }) => e);

  it('accepts a well-formed file', async () => {
    const file = write('ok.ndjson', [{ table: 'customers', row: { id: CUSTOMER } }, { table: 'usage', row: { customer_id: CUSTOMER } }]);
    await expect(verifyFile(file)).resolves.toMatchObject({ header, footer: { tables: { customers: { rows: 1 }, usage: { rows: 1 } } } });
  });

  it('refuses what is not a well-formed transfer file, naming the problem', async () => {
    const outOfOrder = write('order.ndjson', [{ table: 'usage', row: { customer_id: CUSTOMER } }, { table: 'customers', row: { id: CUSTOMER } }]);
    expect(await failure(outOfOrder)).toMatchObject({ code: 'format', message: expect.stringMatching(/line 3: a customers row after the rows of usage/) });
    const unknownTable = write('table.ndjson', [{ table: 'plan_limits', row: { plan: 'free' } }]);
    expect(await failure(unknownTable)).toMatchObject({ code: 'format', message: expect.stringMatching(/line 2: table: Invalid option/) });
    const trailing = write('trailing.ndjson', [], '{"more":true}\n');
    expect(await failure(trailing)).toMatchObject({ code: 'format', message: expect.stringMatching(/content after the footer/) });
    fs.writeFileSync(path.join(dir, 'empty.ndjson'), '');
    expect(await failure(path.join(dir, 'empty.ndjson'))).toMatchObject({ code: 'format', message: expect.stringMatching(/empty file/) });
    fs.writeFileSync(path.join(dir, 'csv.ndjson'), 'id,name\n1,x\n');
    expect(await failure(path.join(dir, 'csv.ndjson'))).toMatchObject({ code: 'format', message: expect.stringMatching(/line 1: not JSON/) });
    expect(await failure(path.join(dir, 'missing.ndjson'))).toMatchObject({ code: 'format', message: expect.stringMatching(/cannot read/) });
  });
});

describe('bounds of reading', () => {
  async function* chunks(...parts: string[]): AsyncGenerator<Buffer> {
    for (const part of parts) yield Buffer.from(part);
  }
  const collect = async (input: AsyncIterable<Buffer>, max?: number) => {
    const out: string[] = [];
    for await (const text of boundedLines(input, 'f.ndjson', max)) out.push(text);
    return out;
  };

  it('splits lines across chunks (LF and CRLF, multi-byte characters split), and refuses one over the limit', async () => {
    const euro = Buffer.from('€');
    async function* split(): AsyncGenerator<Buffer> {
      yield Buffer.concat([Buffer.from('a\r\nb'), euro.subarray(0, 1)]);
      yield Buffer.concat([euro.subarray(1), Buffer.from('c\n\nlast')]);
    }
    expect(await collect(split())).toEqual(['a', 'b€c', '', 'last']);
    expect(await collect(chunks('12345\n123456\n'), 6)).toEqual(['12345', '123456']);
    await expect(collect(chunks('123', '4567\n'), 6)).rejects.toMatchObject({ code: 'format', message: expect.stringMatching(/line 1: longer than 6 bytes/) });
    await expect(collect(chunks('ok\n', '1234567'), 6)).rejects.toMatchObject({ message: expect.stringMatching(/line 2: longer than 6 bytes/) });
  });

  it('measures nesting outside strings only', () => {
    expect(nestedDeeperThan('[[[]]]', 3)).toBe(false);
    expect(nestedDeeperThan('[[[[]]]]', 3)).toBe(true);
    expect(nestedDeeperThan('{"a":{"b":[1,{"c":2}]}}', 3)).toBe(true);
    expect(nestedDeeperThan('{"a":{"b":[1,{"c":2}]}}', 4)).toBe(false);
    expect(nestedDeeperThan('{"a":{"b":[{"c":{}}]}}', 4)).toBe(true);
    // Brackets and escaped quotes inside strings do not count.
    expect(nestedDeeperThan(JSON.stringify({ s: '[[[[[[{{{{"\\"' }), 1)).toBe(false);
    expect(nestedDeeperThan(`{"x":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`)).toBe(true);
    expect(nestedDeeperThan(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toBe(false);
  });
});
