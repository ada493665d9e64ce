/**
 * Moving a customer between real backends: PGlite → PostgreSQL → PGlite round trip with identical
 * data and checksums, Supabase (supabase-js against a PostgREST-protocol server over PostgreSQL) as
 * target and source, tampered files, conflict policies, failures injected midway, secrets, backup
 * and rollback.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbError, SqlState } from '@/lib/db/errors';
import { SupabaseDb } from '@/lib/db/supabase';
import type { Db } from '@/lib/db/types';
import { canonicalJson } from '@/lib/transfer/digest';
import { digestCustomer, exportToFile } from '@/lib/transfer/export';
import { importFile } from '@/lib/transfer/import';
import { verifyFile } from '@/lib/transfer/read';
import { migrateCustomer, rollbackFromBackup } from '@/lib/transfer/migrate';
import { REDACTED } from '@/lib/transfer/sanitize';
import { migratedPostgres, sqlBackends, type SqlBackend } from '../support/databases';
import { startPostgrestServer, type PostgrestServer } from '../support/postgrest-server';
import { SECRETS, canonicalDump, rewriteFile, seedTenant, transferFailure } from '../support/transfer';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-transfer-test-'));
const file = (name: string) => path.join(dir, name);

/** Imports left staging on a backend, and their staged rows (a failed or finished import leaves none). */
async function leftStaged(backend: SqlBackend): Promise<{ imports: number; rows: number }> {
  const [row] = await backend.admin.query<{ imports: number; rows: number }>(
    `select (select count(*)::int from private.transfer_imports where status = 'staging') as imports,
            (select coalesce(sum(row_count), 0)::int from private.transfer_import_batches) as rows`,
  );
  return row!;
}

describe('transfer between PGlite, PostgreSQL and Supabase', () => {
  let source: SqlBackend;
  let pg: SqlBackend;
  let customerId: string;
  /** The source's data as a target holds it: credentials never leave, so they arrive as "[REDACTED]". */
  let expected: Record<string, string[]>;

  beforeAll(async () => {
    [source, pg] = await Promise.all([sqlBackends.pglite(), sqlBackends.postgres()]);
    customerId = await seedTenant(source.db, source.admin);
    await seedTenant(source.db, source.admin, 'Another tenant'); // must not travel along
    expected = redactCredentials(await canonicalDump(source.admin, customerId));
  });
  afterAll(async () => {
    await Promise.all([source?.dispose(), pg?.dispose()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('round-trips PGlite → PostgreSQL → PGlite with identical data and checksums', async () => {
    const first = await exportToFile(source.db, customerId, file('pglite.ndjson'), { includeSecrets: true });
    expect(first.header).toMatchObject({ customerId, source: { kind: 'pglite' }, options: { secrets: 'included' } });
    expect(first.footer.tables).toMatchObject({
      customers: { rows: 1 },
      customer_members: { rows: 2 },
      conversations: { rows: 3 },
      messages: { rows: 27 },
      message_queue: { rows: 4 }, // the completed row stays behind
      scrape_jobs: { rows: 2 },
      scrape_job_results: { rows: 6 },
      scrape_job_stats: { rows: 2 },
      scraped_pages: { rows: 2 },
      usage: { rows: 2 },
    });

    const imported = await importFile(pg.db, first.file, { validate: true, importMembers: true });
    expect(imported).toMatchObject({ customerExisted: false, dryRun: false, written: { messages: 27, scrape_job_results: 6 } });
    // Stats are not written but rebuilt by the triggers, and must equal the file's.
    expect(imported.written.scrape_job_stats).toBeUndefined();
    expect(await canonicalDump(pg.admin, customerId)).toEqual(expected);

    const second = await exportToFile(pg.db, customerId, file('postgres.ndjson'), { includeSecrets: true });
    expect(second.header.source.kind).toBe('postgres');
    expect(second.footer.sha256).toBe(first.footer.sha256);
    expect(second.footer.tables).toEqual(first.footer.tables);

    const back = await sqlBackends.pglite();
    try {
      await importFile(back.db, second.file, { validate: true, importMembers: true });
      expect(await canonicalDump(back.admin, customerId)).toEqual(expected);
      const third = await digestCustomer(back.db, customerId, { includeSecrets: true });
      expect(third.sha256).toBe(first.footer.sha256);
      // Positions are kept and the sequence moved past them: a new message sorts after the imported ones.
      const [{ max, next }] = (await back.admin.query<{ max: string; next: string }>(
        `select (select max(position) from messages)::text as max, nextval('message_position_seq')::text as next`,
      )) as [{ max: string; next: string }];
      expect(BigInt(next)).toBeGreaterThan(BigInt(max));
      expect(await leftStaged(back)).toEqual({ imports: 0, rows: 0 });
    } finally {
      await back.dispose();
    }
  });

  it('never exports a secret; the widget key only on request, and a redacted key is regenerated on import', async () => {
    const redacted = await exportToFile(source.db, customerId, file('redacted.ndjson'));
    const text = fs.readFileSync(redacted.file, 'utf8');
    const [{ public_key: key }] = (await source.admin.query<{ public_key: string }>(
      'select public_key from customers where id = $1',
      [customerId],
    )) as [{ public_key: string }];
    for (const secret of [...Object.values(SECRETS), key]) expect(text).not.toContain(secret);
    expect(text).toContain(REDACTED);
    expect(text).toContain('"Accept":"text/html"'); // what is not a credential stays

    const withKey = fs.readFileSync((await exportToFile(source.db, customerId, file('key.ndjson'), { includeSecrets: true })).file, 'utf8');
    expect(withKey).toContain(key);
    for (const secret of Object.values(SECRETS)) expect(withKey).not.toContain(secret);

    const fresh = await sqlBackends.pglite();
    try {
      await importFile(fresh.db, redacted.file, { validate: true, importMembers: true });
      const [row] = await fresh.admin.query<{ public_key: string }>('select public_key from customers where id = $1', [customerId]);
      expect(row!.public_key).toMatch(/^pk_[0-9a-f]{32}$/);
      expect(row!.public_key).not.toBe(key);
      expect(await canonicalDump(fresh.admin, customerId, { omitKey: true })).toEqual(
        await canonicalDump(source.admin, customerId, { omitKey: true }).then((d) => redactCredentials(d)),
      );
    } finally {
      await fresh.dispose();
    }
  });

  it('writes every row as its canonical JSON, and still reads files whose rows have their keys in another order', async () => {
    const lines = fs.readFileSync(file('pglite.ndjson'), 'utf8').trimEnd().split('\n');
    const rows = lines.slice(1, -1);
    expect(rows.length).toBeGreaterThan(40);
    for (const text of rows) {
      const { table, row } = JSON.parse(text) as { table: string; row: Record<string, unknown> };
      expect(text).toBe(`{"type":"row","table":"${table}","row":${canonicalJson(row)}}`);
    }
    // As version-1 exporters wrote them (the database's key order), here reversed: same data, same
    // data checksums, another whole-file checksum.
    const reversed = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversed)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]))
          : value;
    const body = [lines[0]!, ...rows.map((text) => JSON.stringify(reversed(JSON.parse(text))))].map((l) => `${l}\n`).join('');
    expect(body).not.toBe(lines.slice(0, -1).map((l) => `${l}\n`).join(''));
    const footer = { ...(JSON.parse(lines.at(-1)!) as object), fileSha256: crypto.createHash('sha256').update(body).digest('hex') };
    fs.writeFileSync(file('other-key-order.ndjson'), `${body}${JSON.stringify(footer)}\n`);
    const target = await sqlBackends.pglite();
    try {
      const imported = await importFile(target.db, file('other-key-order.ndjson'), { validate: true, importMembers: true });
      expect(imported.written.messages).toBe(27);
      expect(await canonicalDump(target.admin, customerId)).toEqual(expected);
    } finally {
      await target.dispose();
    }
  });

  it('refuses a file with one byte changed, before writing anything', async () => {
    const target = await sqlBackends.pglite();
    try {
      const original = fs.readFileSync(file('pglite.ndjson'));
      const at = original.indexOf('Grüße 👋 4') + Buffer.byteLength('Grüße 👋 '); // the 4 of a message's text
      for (const [name, position] of [['tampered-row', at], ['tampered-header', original.indexOf('"exportedAt":"') + 16]] as const) {
        const tampered = Buffer.from(original);
        tampered[position] = tampered[position] === 0x41 ? 0x42 : 0x41;
        fs.writeFileSync(file(`${name}.ndjson`), tampered);
        const error = await transferFailure(importFile(target.db, file(`${name}.ndjson`), { onConflict: 'overwrite' }));
        expect(error.code).toBe('checksum');
        expect(error.message).toMatch(/^\[omniops\] \[transfer\] .*checksum mismatch/);
      }
      // A byte that breaks the JSON of a row is still reported as what it is: damage.
      const broken = Buffer.from(original);
      broken[original.indexOf('"table":"messages"')] = 0x7b;
      fs.writeFileSync(file('broken.ndjson'), broken);
      expect((await transferFailure(importFile(target.db, file('broken.ndjson')))).code).toBe('checksum');
      // A truncated download has no footer.
      fs.writeFileSync(file('truncated.ndjson'), original.subarray(0, original.length - 200));
      expect((await transferFailure(importFile(target.db, file('truncated.ndjson')))).code).toBe('format');

      expect(await canonicalDump(target.admin, customerId)).toEqual(emptyDump());
      const [{ n }] = (await target.admin.query<{ n: number }>('select count(*)::int as n from private.transfer_imports')) as [{ n: number }];
      expect(n).toBe(0); // the refused imports' staging was dropped
    } finally {
      await target.dispose();
    }
  });

  it('refuses, by the whole-file checksum, a header changed to another valid value, two rows swapped and the last row dropped', async () => {
    // Each change leaves every line well-formed and the data checksums intact (the header is not
    // in them, the table digests do not depend on row order) or only them: only fileSha256 tells.
    const original = fs.readFileSync(file('pglite.ndjson'), 'utf8');
    await expect(verifyFile(file('pglite.ndjson'))).resolves.toBeDefined();
    const lines = original.split('\n');
    const footerAt = lines.findIndex((l) => l.startsWith('{"type":"footer"'));
    const messageRows = lines.flatMap((l, i) => (l.startsWith('{"type":"row","table":"messages"') ? [i] : []));
    const secrets = /"secrets":"(included|redacted)"/.exec(lines[0]!)?.[1];
    expect(secrets).toBeDefined();
    expect(messageRows.length).toBeGreaterThan(1);
    const variants: Record<string, string[]> = {
      'header-secrets': [lines[0]!.replace(`"secrets":"${secrets}"`, `"secrets":"${secrets === 'redacted' ? 'included' : 'redacted'}"`), ...lines.slice(1)],
      'rows-swapped': lines.map((l, i) => (i === messageRows[0] ? lines[messageRows[1]!]! : i === messageRows[1] ? lines[messageRows[0]!]! : l)),
      'last-row-dropped': lines.filter((_, i) => i !== footerAt - 1),
    };
    for (const [name, changed] of Object.entries(variants)) {
      expect(changed.join('\n')).not.toBe(original);
      fs.writeFileSync(file(`${name}.ndjson`), changed.join('\n'));
      const error = await transferFailure(verifyFile(file(`${name}.ndjson`)));
      expect({ name, code: error.code }).toEqual({ name, code: 'checksum' });
      expect(error.message).toMatch(/checksum mismatch: the file's content is not what was exported/);
    }
  });

  it('refuses, by the data checksums, rows rewritten with the whole-file checksum recomputed to match', async () => {
    // fileSha256 is a plain hash anyone can recompute; the per-table counts and data hash must still tell.
    const lines = fs.readFileSync(file('pglite.ndjson'), 'utf8').trimEnd().split('\n');
    const footerAt = lines.findIndex((l) => l.startsWith('{"type":"footer"'));
    const messageRows = lines.flatMap((l, i) => (l.startsWith('{"type":"row","table":"messages"') ? [i] : []));
    const changedRow = lines[messageRows[0]!]!.replace(/"content":"/, '"content":"changed ');
    expect(changedRow).not.toBe(lines[messageRows[0]!]);
    const variants: Record<string, string[]> = {
      'row-dropped': lines.slice(0, footerAt).filter((_, i) => i !== messageRows[0]),
      'row-changed': lines.slice(0, footerAt).map((l, i) => (i === messageRows[0] ? changedRow : l)),
    };
    for (const [name, body] of Object.entries(variants)) {
      const footer = JSON.parse(lines[footerAt]!) as { fileSha256: string };
      footer.fileSha256 = crypto.createHash('sha256').update(body.map((l) => `${l}\n`).join('')).digest('hex');
      fs.writeFileSync(file(`${name}.ndjson`), [...body, JSON.stringify(footer)].join('\n') + '\n');
      const error = await transferFailure(verifyFile(file(`${name}.ndjson`)));
      expect({ name, code: error.code }).toEqual({ name, code: 'checksum' });
      expect(error.message).toMatch(/checksum mismatch: messages: (\d+ rows expected, \d+ found|same \d+ rows, different content)/);
    }
  });

  describe('conflict policies when the target has the customer', () => {
    let target: SqlBackend;
    let edited: Record<string, string[]>;

    beforeAll(async () => {
      target = await sqlBackends.postgres();
      await importFile(target.db, file('pglite.ndjson'), { importMembers: true });
      // The target's copy drifts: renamed, three messages gone (cm-1 of each conversation), one of its own.
      await target.admin.query(`update customers set name = 'Renamed on target' where id = $1`, [customerId]);
      await target.admin.query(`delete from messages where customer_id = $1 and client_message_id = 'cm-1'`, [customerId]);
      await target.admin.query(
        `insert into messages (conversation_id, customer_id, role, content, client_message_id)
         select id, customer_id, 'staff', 'only on the target', 'target-only' from conversations where customer_id = $1 limit 1`,
        [customerId],
      );
      edited = await canonicalDump(target.admin, customerId);
    });
    afterAll(async () => {
      await target?.dispose();
    });

    it('fail (the default): refuses and changes nothing', async () => {
      for (const onConflict of [undefined, 'fail'] as const) {
        const error = await transferFailure(importFile(target.db, file('pglite.ndjson'), { onConflict }));
        expect(error.code).toBe('customer_exists');
        expect(error.message).toMatch(/already has customer .* choose --on-conflict skip .* or overwrite/);
      }
      expect(await canonicalDump(target.admin, customerId)).toEqual(edited);
      expect(await leftStaged(target)).toEqual({ imports: 0, rows: 0 });
    });

    it('dry run: reports what would happen and changes nothing', async () => {
      const result = await importFile(target.db, file('pglite.ndjson'), { onConflict: 'overwrite', dryRun: true });
      expect(result).toMatchObject({ dryRun: true, customerExisted: true, written: { messages: 27 } });
      expect(await canonicalDump(target.admin, customerId)).toEqual(edited);
      expect(await leftStaged(target)).toEqual({ imports: 0, rows: 0 });
    });

    it('skip: keeps every existing row and adds only the missing ones', async () => {
      const result = await importFile(target.db, file('pglite.ndjson'), { onConflict: 'skip' });
      expect(result.customerExisted).toBe(true);
      expect(result.written).toMatchObject({ customers: 0, messages: 3, conversations: 0, usage: 0 });
      expect(result.skipped).toMatchObject({ customers: 1, messages: 24 });
      const dump = await canonicalDump(target.admin, customerId);
      expect(dump.customers![0]).toContain('Renamed on target');
      expect(dump.messages).toHaveLength(28);
      expect(dump.messages!.filter((m) => m.includes('"client_message_id":"cm-1"'))).toHaveLength(3);
      expect(dump.messages!.some((m) => m.includes('only on the target'))).toBe(true);
      expect(dump.messages!.some((m) => m.includes('"client_message_id":"cm-1"'))).toBe(true);
    });

    it('overwrite: replaces the customer with the file, exactly', async () => {
      const result = await importFile(target.db, file('pglite.ndjson'), { onConflict: 'overwrite', validate: true, importMembers: true });
      expect(result).toMatchObject({ customerExisted: true, written: { customers: 1, messages: 27 } });
      expect(await canonicalDump(target.admin, customerId)).toEqual(expected);
    });

    it('a failure injected midway through staging leaves the target as it was', async () => {
      await target.admin.query(`update customers set name = 'Before the failed import' where id = $1`, [customerId]);
      const before = await canonicalDump(target.admin, customerId);
      let stages = 0;
      const flaky: Db = {
        kind: target.db.kind,
        ping: () => target.db.ping(),
        close: async () => {},
        rpc: async <T,>(fn: string, args?: object) => {
          if (fn === 'transfer_import_stage' && ++stages === 3) {
            throw new DbError(SqlState.connectionFailure, 'connection lost (injected)', { fn });
          }
          return target.db.rpc<T>(fn, args);
        },
      };
      const error = await transferFailure(importFile(flaky, file('pglite.ndjson'), { onConflict: 'overwrite', batchRows: 5 }));
      expect(error.code).toBe('unreachable');
      expect(stages).toBe(3);
      expect(await canonicalDump(target.admin, customerId)).toEqual(before);
      expect(await leftStaged(target)).toEqual({ imports: 0, rows: 0 }); // the failed import's staging was dropped
    });

    it('reads the file once: stages while verifying, and a file damaged after staged batches is refused for its damage, first', async () => {
      const before = await canonicalDump(target.admin, customerId);
      const original = fs.readFileSync(file('pglite.ndjson'));
      const damaged = Buffer.from(original);
      const at = original.lastIndexOf('"table":"usage"'); // the last rows: every other table was staged before
      damaged[at + 10] = damaged[at + 10] === 0x41 ? 0x42 : 0x41;
      fs.writeFileSync(file('damaged-late.ndjson'), damaged);
      const counting = (failAt?: number) => {
        const calls = { stages: 0 };
        const db: Db = {
          kind: target.db.kind,
          ping: () => target.db.ping(),
          close: async () => {},
          rpc: async <T,>(fn: string, args?: object) => {
            if (fn === 'transfer_import_stage' && ++calls.stages === failAt) {
              throw new DbError(SqlState.connectionFailure, 'connection lost (injected)', { fn });
            }
            return target.db.rpc<T>(fn, args);
          },
        };
        return { db, calls };
      };
      for (const [onConflict, failAt] of [['overwrite', undefined], ['fail', undefined], ['overwrite', 2]] as const) {
        const { db, calls } = counting(failAt);
        const error = await transferFailure(importFile(db, file('damaged-late.ndjson'), { onConflict, batchRows: 5 }));
        // The damage wins over the target's own refusals (the customer exists; a staging call failed).
        expect({ onConflict, failAt, code: error.code }).toEqual({ onConflict, failAt, code: 'checksum' });
        if (onConflict === 'overwrite') expect(calls.stages).toBeGreaterThanOrEqual(2); // staged before the damage was read
        expect(await canonicalDump(target.admin, customerId)).toEqual(before);
        expect(await leftStaged(target)).toEqual({ imports: 0, rows: 0 });
      }
    });

    it('a row the target refuses at commit leaves the target as it was (overwrite rolled back too)', async () => {
      const before = await canonicalDump(target.admin, customerId);
      rewriteFile(file('pglite.ndjson'), file('bad-usage.ndjson'), (l) =>
        l.table === 'usage' && l.row.month_year === '2026-11' ? { ...l, row: { ...l.row, messages: -1 } } : l,
      );
      const error = await transferFailure(importFile(target.db, file('bad-usage.ndjson'), { onConflict: 'overwrite' }));
      expect(error.code).toBe('refused');
      expect(error.message).toMatch(/usage_messages_check|check constraint/);
      expect(await canonicalDump(target.admin, customerId)).toEqual(before);
    });

    it('refuses a row of another customer and a column the target does not have', async () => {
      const other = '00000000-0000-4000-8000-00000000beef';
      rewriteFile(file('pglite.ndjson'), file('foreign.ndjson'), (l) =>
        l.table === 'usage' ? { ...l, row: { ...l.row, customer_id: other } } : l,
      );
      expect((await transferFailure(importFile(target.db, file('foreign.ndjson'), { onConflict: 'overwrite' }))).code).toBe('format');
      rewriteFile(file('pglite.ndjson'), file('newer.ndjson'), (l) =>
        l.table === 'usage' ? { ...l, row: { ...l.row, column_from_the_future: 1 } } : l,
      );
      const error = await transferFailure(importFile(target.db, file('newer.ndjson'), { onConflict: 'overwrite' }));
      expect(error.code).toBe('schema');
      expect(error.message).toMatch(/usage\.column_from_the_future does not exist on the target/);
    });

    it('refuses stats that disagree with the results they are computed from', async () => {
      rewriteFile(file('pglite.ndjson'), file('bad-stats.ndjson'), (l) =>
        l.table === 'scrape_job_stats' ? { ...l, row: { ...l.row, total_pages: 99 } } : l,
      );
      const error = await transferFailure(importFile(target.db, file('bad-stats.ndjson'), { onConflict: 'overwrite' }));
      expect(error.message).toMatch(/scrape_job_stats: 2 row\(s\) of the file disagree/);
    });
  });

  it('migrates with a backup and rolls back to it (customer present, and absent before)', async () => {
    const target = await sqlBackends.postgres();
    try {
      const from = { db: source.db, label: 'source' };
      const to = { db: target.db, label: 'target' };
      // Absent on the target: the backup records that, and the rollback deletes the customer again.
      const first = await migrateCustomer(from, to, { customerId, backup: file('backup-absent.ndjson'), importMembers: true });
      expect(first.validated).toBe(true);
      expect(first.backup!.footer.tables.customers!.rows).toBe(0);
      expect(await canonicalDump(target.admin, customerId, { omitKey: true })).toEqual(
        redactCredentials(await canonicalDump(source.admin, customerId, { omitKey: true })),
      );
      const undone = await rollbackFromBackup(to, file('backup-absent.ndjson'), { importMembers: true });
      expect(undone.action).toBe('deleted');
      expect(await canonicalDump(target.admin, customerId)).toEqual(emptyDump());

      // Present: the rollback restores the previous data, widget key included.
      await migrateCustomer(from, to, { customerId, includeSecrets: true, importMembers: true });
      await target.admin.query(`update customers set name = 'Target edition' where id = $1`, [customerId]);
      const previous = await canonicalDump(target.admin, customerId);
      const second = await migrateCustomer(from, to, { customerId, backup: file('backup.ndjson'), onConflict: 'overwrite', importMembers: true });
      expect(second.backup!.footer.tables.customers!.rows).toBe(1);
      expect(await canonicalDump(target.admin, customerId)).not.toEqual(previous);
      const restored = await rollbackFromBackup(to, file('backup.ndjson'), { importMembers: true });
      expect(restored.action).toBe('restored');
      expect(await canonicalDump(target.admin, customerId)).toEqual(previous);
    } finally {
      await target.dispose();
    }
  });

  describe('through the Supabase adapter', () => {
    let supabasePg: Awaited<ReturnType<typeof migratedPostgres>>;
    let server: PostgrestServer;
    let supabase: SupabaseDb;

    beforeAll(async () => {
      supabasePg = await migratedPostgres();
      server = await startPostgrestServer({ databaseUrl: supabasePg.database.url });
      supabase = new SupabaseDb({ url: server.url, anonKey: server.anonKey, serviceRoleKey: server.serviceRoleKey });
    });
    afterAll(async () => {
      await server?.close();
      await supabasePg?.dispose();
    });

    it('imports into Supabase and exports from it with the same checksums', async () => {
      const result = await migrateCustomer(
        { db: source.db, label: 'embedded' },
        { db: supabase, label: 'supabase' },
        { customerId, includeSecrets: true, file: file('to-supabase.ndjson'), importMembers: true },
      );
      expect(result.validated).toBe(true);
      expect(await canonicalDump(supabasePg.db.admin, customerId)).toEqual(expected);
      const back = await exportToFile(supabase, customerId, file('from-supabase.ndjson'), { includeSecrets: true, pageSize: 4 });
      expect(back.header.source.kind).toBe('supabase');
      expect(back.footer.sha256).toBe(result.exported.footer.sha256);
      expect(
        (await transferFailure(importFile(supabase, file('from-supabase.ndjson')))).code,
      ).toBe('customer_exists');
    });
  });
});

function emptyDump(): Record<string, string[]> {
  return Object.fromEntries(
    ['customers', 'customer_members', 'conversations', 'messages', 'message_queue', 'scrape_jobs', 'scrape_job_results', 'scrape_job_stats', 'scraped_pages', 'usage'].map(
      (t) => [t, []],
    ),
  );
}

/** What the seeded credentials look like after a redacted export and import. */
function redactCredentials(dump: Record<string, string[]>): Record<string, string[]> {
  const replace = (text: string) =>
    Object.values(SECRETS).reduce((t, secret) => t.replaceAll(JSON.stringify(secret), JSON.stringify(REDACTED)), text);
  const credentials = (text: string) =>
    text.replace(/"auth":\{[^}]*\}/g, `"auth":${JSON.stringify(REDACTED)}`);
  return Object.fromEntries(Object.entries(dump).map(([t, rows]) => [t, rows.map((r) => credentials(replace(r))).sort()]));
}
