/**
 * `npm run data` as users run it (tsx scripts/data.ts in a child process): a migration from the
 * embedded default to PostgreSQL with a backup and its rollback, `list`, and the clear errors the
 * issue asks for — unknown customer, wrong checksum, existing customer without --on-conflict,
 * unreachable backend — memberships only with --import-members, and signed exports
 * (EXPORT_SIGNING_KEY) whose forgeries are refused.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '@/lib/db/migrations';
import { PgliteDb } from '@/lib/db/pglite';
import { migratedPostgres } from '../support/databases';
import { rewriteFile, seedTenant } from '../support/transfer';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-transfer-cli-'));
const UNREACHABLE = 'postgres://postgres@127.0.0.1:1/nowhere';

/** Run the CLI; resolves with its exit code and output whatever the code. */
function data(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return dataWith({}, ...args);
}

async function dataWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['node_modules/tsx/dist/cli.mjs', 'scripts/data.ts', ...args], {
      env: {
        ...process.env,
        OMNIOPS_DATA_DIR: dir,
        DATABASE_URL: '',
        NEXT_PUBLIC_SUPABASE_URL: '',
        SUPABASE_SERVICE_ROLE_KEY: '',
        SUPABASE_SECRET_KEY: '',
        DB_CONNECT_TIMEOUT_MS: '1000',
        ...env,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run data', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;
  let customerId: string;

  beforeAll(async () => {
    pg = await migratedPostgres();
    const embedded = await PgliteDb.open(path.join(dir, 'pglite'));
    try {
      await migrate(embedded.admin, loadMigrations());
      customerId = await seedTenant(embedded, embedded.admin, 'CLI Shop');
    } finally {
      await embedded.close(); // the CLI is another process: it needs the directory's lock
    }
  });
  afterAll(async () => {
    await pg?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('migrates a customer from the embedded default to PostgreSQL, refuses to do it twice, and rolls back', async () => {
    const backup = path.join(dir, 'backup.ndjson');
    const out = path.join(dir, 'export.ndjson');
    const first = await data(
      'migrate', '--customer', customerId, '--from', 'embedded', '--to', pg.database.url, '--backup', backup, '--out', out, '--import-members',
    );
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('(0 rows: the customer was absent)');
    expect(first.stdout).toMatch(/migrated customer .* \(\d+ rows\) from embedded PGlite .* to postgres:\/\/.*\nvalidated: row counts and checksums/);

    const again = await data('migrate', '--customer', customerId, '--from', 'embedded', '--to', pg.database.url);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^\[omniops\] \[transfer\] .* already has customer .*; choose --on-conflict skip .* or overwrite/);

    const list = await data('list', '--to', pg.database.url, '--from', UNREACHABLE);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/embedded PGlite .*\n {2}reachable, 1 customer\(s\)\n.*customer +id +plan +members +conversations +messages/);
    expect(list.stdout).toMatch(/CLI Shop +[0-9a-f-]{36} +pro +2 +3 +27 +4 +2 +6 +2 +2 +2/);
    expect(list.stdout).toMatch(/127\.0\.0\.1:1\/nowhere\n {2}unreachable: .*ECONNREFUSED/);

    const rollback = await data('migrate', '--rollback', '--backup', backup, '--to', pg.database.url);
    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toContain(`deleted customer ${customerId}`);
    const [{ n }] = (await pg.db.admin.query<{ n: number }>('select count(*)::int as n from customers')) as [{ n: number }];
    expect(n).toBe(0);

    // Without --import-members the file's 2 memberships stay out (the target has none for it).
    const imported = await data('import', '--in', out, '--to', pg.database.url, '--validate');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toMatch(
      /imported customer .*: 47 rows written, 0 skipped .*\n2 membership row\(s\) of the file left out, the target's kept \(--import-members imports them\)\nvalidated/,
    );
    const [{ members }] = (await pg.db.admin.query<{ members: number }>('select count(*)::int as members from customer_members')) as [{ members: number }];
    expect(members).toBe(0);
  });

  it('signs exports under EXPORT_SIGNING_KEY and refuses a forged file with recomputed checksums', async () => {
    const env = { EXPORT_SIGNING_KEY: 'cli-test-signing-key-0123456789abcdef' };
    const signed = path.join(dir, 'signed.ndjson');
    const exported = await dataWith(env, 'export', '--customer', customerId, '--from', pg.database.url, '--out', signed);
    expect(exported.code).toBe(0);
    const forged = path.join(dir, 'forged.ndjson');
    rewriteFile(signed, forged, (l) => (l.table === 'usage' ? { ...l, row: { ...l.row, messages: 0 } } : l));
    const refused = await dataWith(env, 'import', '--in', forged, '--to', pg.database.url, '--on-conflict', 'overwrite');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^\[omniops\] \[transfer\] .*forged\.ndjson: unsigned file: EXPORT_SIGNING_KEY is set/);
    const accepted = await dataWith(env, 'import', '--in', signed, '--to', pg.database.url, '--on-conflict', 'overwrite', '--validate');
    expect(accepted.code).toBe(0);
  });

  it('says clearly what is wrong: unknown customer, wrong checksum, unreachable backend, bad usage', async () => {
    const unknown = await data('export', '--customer', '00000000-0000-4000-8000-000000000000', '--from', pg.database.url, '--out', path.join(dir, 'x.ndjson'));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^\[omniops\] \[transfer\] postgres:\/\/.* has no customer 00000000-0000-4000-8000-000000000000\n$/);
    expect(fs.existsSync(path.join(dir, 'x.ndjson'))).toBe(false);

    const good = path.join(dir, 'export.ndjson');
    const bad = path.join(dir, 'tampered.ndjson');
    const bytes = fs.readFileSync(good);
    bytes[bytes.indexOf('Lorem ipsum') + 1] = 0x30;
    fs.writeFileSync(bad, bytes);
    const tampered = await data('import', '--in', bad, '--to', pg.database.url, '--on-conflict', 'overwrite');
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/checksum mismatch: the file's content is not what was exported/);

    const unreachable = await data('export', '--customer', customerId, '--from', UNREACHABLE, '--out', path.join(dir, 'y.ndjson'));
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^\[omniops\] \[transfer\] postgres:\/\/postgres@127\.0\.0\.1:1\/nowhere is unreachable: /);

    const usage = await data('import', '--in', good, '--on-conflict', 'sometimes');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--on-conflict: must be fail, skip, overwrite/);
  });
});
