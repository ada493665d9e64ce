/**
 * Forged and hostile transfer files (issue 14, finding 10). Checksums prove integrity, not origin:
 * anyone can recompute them. So, on real PGlite (source) and PostgreSQL (target):
 *
 * - under EXPORT_SIGNING_KEY, a file edited with recomputed checksums, an unsigned file and a file
 *   signed with another key are refused, nothing imported;
 * - under EXPORT_ENCRYPTION_KEY an export is unreadable without the key, and one changed byte of
 *   the ciphertext is refused (authenticated encryption), nothing imported;
 * - a forged owner membership is not merged into an existing customer (`--on-conflict skip`)
 *   unless memberships are imported explicitly;
 * - a 100 MB line and JSON nested 10,000 deep are refused with a clear error, in bounded memory,
 *   before anything is written.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransferError } from '@/lib/transfer/errors';
import { exportToFile } from '@/lib/transfer/export';
import { FORMAT, FORMAT_VERSION, line, type Header } from '@/lib/transfer/format';
import { importFile } from '@/lib/transfer/import';
import { verifyFile } from '@/lib/transfer/read';
import { sqlBackends, type SqlBackend } from '../support/databases';
import { rewriteFile, seedTenant } from '../support/transfer';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-transfer-forgery-'));
const file = (name: string) => path.join(dir, name);
const signingKey = Buffer.from(crypto.randomBytes(32).toString('hex'));
const encryptionKey = crypto.randomBytes(32);
const ATTACKER = '00000000-0000-4000-8000-00000000bad0';

let source: SqlBackend;
let target: SqlBackend;
let customerId: string;

beforeAll(async () => {
  [source, target] = await Promise.all([sqlBackends.pglite(), sqlBackends.postgres()]);
  customerId = await seedTenant(source.db, source.admin, 'Forgery Co');
});
afterAll(async () => {
  await Promise.all([source?.dispose(), target?.dispose()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function transferFailure(promise: Promise<unknown>): Promise<TransferError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TransferError);
  return error as TransferError;
}

async function onTarget(): Promise<{ customers: number; members: string[] }> {
  const [row] = await target.admin.query<{ customers: number }>('select count(*)::int as customers from customers where id = $1', [customerId]);
  const members = await target.admin.query<{ user_id: string; role: string }>(
    'select user_id, role from customer_members where customer_id = $1 order by user_id',
    [customerId],
  );
  return { customers: row!.customers, members: members.map((m) => `${m.user_id}:${m.role}`) };
}

describe('signed exports (EXPORT_SIGNING_KEY)', () => {
  it('refuses a forged file with recomputed checksums, an unsigned file and another key\'s file; imports the genuine one', async () => {
    await exportToFile(source.db, customerId, file('signed.ndjson'), { keys: { signingKey } });
    // The attacker edits a message and recomputes every checksum (tests/support/transfer.ts).
    rewriteFile(file('signed.ndjson'), file('forged.ndjson'), (l) =>
      l.table === 'messages' ? { ...l, row: { ...l.row, content: 'Send your card number to evil.example' } } : l,
    );
    await exportToFile(source.db, customerId, file('unsigned.ndjson'));
    await exportToFile(source.db, customerId, file('other-key.ndjson'), { keys: { signingKey: Buffer.from('another signing key of 32+ chars!!') } });

    for (const name of ['forged', 'unsigned', 'other-key']) {
      const error = await transferFailure(importFile(target.db, file(`${name}.ndjson`), { keys: { signingKey } }));
      expect(error.code, name).toBe('signature');
      expect(error.message, name).toMatch(/signature|signed/);
    }
    // A signature copied from the genuine file onto the forged one does not help.
    const genuineFooter = JSON.parse(fs.readFileSync(file('signed.ndjson'), 'utf8').trimEnd().split('\n').at(-1)!) as { signature: unknown };
    const forged = fs.readFileSync(file('forged.ndjson'), 'utf8').trimEnd().split('\n');
    const footer = { ...(JSON.parse(forged.at(-1)!) as object), signature: genuineFooter.signature };
    fs.writeFileSync(file('forged-copied.ndjson'), [...forged.slice(0, -1), JSON.stringify(footer)].join('\n') + '\n');
    expect((await transferFailure(importFile(target.db, file('forged-copied.ndjson'), { keys: { signingKey } }))).code).toBe('signature');
    expect(await onTarget()).toEqual({ customers: 0, members: [] });

    await importFile(target.db, file('signed.ndjson'), { keys: { signingKey }, importMembers: true, validate: true });
    expect((await onTarget()).customers).toBe(1);
    await target.admin.query('delete from customers where id = $1', [customerId]);
  });
});

describe('encrypted exports (EXPORT_ENCRYPTION_KEY)', () => {
  it('is unreadable without the key, refuses one changed byte, and imports with the key', async () => {
    const result = await exportToFile(source.db, customerId, file('sealed.ndjson.enc'), { keys: { encryptionKey, signingKey } });
    const sealed = fs.readFileSync(result.file);
    expect(sealed.includes(Buffer.from('Forgery Co'))).toBe(false);
    expect(sealed.includes(Buffer.from(customerId))).toBe(false);
    // A fresh IV per file: the same data encrypts differently.
    await exportToFile(source.db, customerId, file('sealed-again.ndjson.enc'), { keys: { encryptionKey, signingKey } });
    expect(fs.readFileSync(file('sealed-again.ndjson.enc')).subarray(-64).equals(sealed.subarray(-64))).toBe(false);

    const tampered = Buffer.from(sealed);
    tampered[Math.floor(tampered.length / 2)]! ^= 0x01;
    fs.writeFileSync(file('tampered.ndjson.enc'), tampered);
    const error = await transferFailure(importFile(target.db, file('tampered.ndjson.enc'), { keys: { encryptionKey, signingKey } }));
    expect(error.code).toBe('decrypt');
    expect(error.message).toMatch(/authentication failed|altered/);

    const noKey = await transferFailure(importFile(target.db, result.file, { keys: {} }));
    expect(noKey.code).toBe('decrypt');
    expect(noKey.message).toMatch(/EXPORT_ENCRYPTION_KEY/);
    const wrongKey = await transferFailure(importFile(target.db, result.file, { keys: { encryptionKey: crypto.randomBytes(32), signingKey } }));
    expect(wrongKey.code).toBe('decrypt');
    expect(await onTarget()).toEqual({ customers: 0, members: [] });

    await importFile(target.db, result.file, { keys: { encryptionKey, signingKey }, importMembers: true, validate: true });
    expect((await onTarget()).customers).toBe(1);
    await target.admin.query('delete from customers where id = $1', [customerId]);
  });
});

describe('memberships', () => {
  it('a forged owner membership is not merged into an existing customer without the explicit flag', async () => {
    await exportToFile(source.db, customerId, file('members.ndjson'));
    await importFile(target.db, file('members.ndjson'), { importMembers: true });
    const before = await onTarget();
    expect(before.members).toHaveLength(2);

    rewriteFile(file('members.ndjson'), file('owner.ndjson'), (l) =>
      l.table === 'customer_members' && l.row.role === 'owner' ? { ...l, row: { ...l.row, user_id: ATTACKER } } : l,
    );
    for (const onConflict of ['skip', 'overwrite'] as const) {
      const result = await importFile(target.db, file('owner.ndjson'), { onConflict });
      expect(result.membersLeftOut).toBe(2);
      expect(await onTarget()).toEqual(before);
    }
    // The flag is what lets memberships in.
    await importFile(target.db, file('owner.ndjson'), { onConflict: 'skip', importMembers: true });
    expect((await onTarget()).members).toContain(`${ATTACKER}:owner`);
    await target.admin.query('delete from customers where id = $1', [customerId]);
  });
});

describe('bounds when reading', () => {
  const header: Header = {
    type: 'header',
    format: FORMAT,
    version: FORMAT_VERSION,
    customerId: '00000000-0000-4000-8000-000000000001',
    source: { kind: 'pglite', schemaVersion: null },
    exportedAt: new Date().toISOString(),
    options: { secrets: 'redacted' },
  };

  it('refuses a 100 MB line with a clear error, in bounded memory', async () => {
    const fd = fs.openSync(file('long-line.ndjson'), 'w');
    fs.writeSync(fd, line(header));
    fs.writeSync(fd, `{"type":"row","table":"messages","row":{"customer_id":"${header.customerId}","content":"`);
    const mb = Buffer.alloc(1024 * 1024, 'a');
    for (let i = 0; i < 100; i++) fs.writeSync(fd, mb);
    fs.writeSync(fd, '"}}\n');
    fs.closeSync(fd);

    const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    global.gc?.();
    const base = used();
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, used())), 5);
    try {
      const error = await transferFailure(verifyFile(file('long-line.ndjson')));
      expect(error.code).toBe('format');
      expect(error.message).toMatch(/line 2: longer than \d+ bytes/);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - base).toBeLessThan(64 * 1024 * 1024);
    expect(await onTarget()).toEqual({ customers: 0, members: [] });
  });

  it('refuses JSON nested 10,000 deep with a clear error', async () => {
    const deep = `{"type":"row","table":"messages","row":{"customer_id":"${header.customerId}","metadata":${'['.repeat(10_000)}${']'.repeat(10_000)}}}\n`;
    fs.writeFileSync(file('deep.ndjson'), line(header) + deep);
    const error = await transferFailure(verifyFile(file('deep.ndjson')));
    expect(error.code).toBe('format');
    expect(error.message).toMatch(/line 2: nested deeper than \d+ levels/);
    const imported = await transferFailure(importFile(target.db, file('deep.ndjson')));
    expect(imported.code).toBe('format');
    expect(await onTarget()).toEqual({ customers: 0, members: [] });
  });
});
