/**
 * POST /api/admin/customers/:id/export, called the way Next.js calls it, with an admin session
 * cookie: a streamed transfer file that imports elsewhere, counted as an export in usage, 429 past
 * the plan's limit, 404 / 400, 401 without a session; signed and encrypted with the configured keys.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POST } from '@/app/api/admin/customers/[id]/export/route';
import { getUsage } from '@/lib/usage';
import { importFile } from '@/lib/transfer/import';
import { verifyFile } from '@/lib/transfer/read';
import { sqlBackends, type SqlBackend } from '../support/databases';
import { newCustomer } from '../support/fixtures';
import { canonicalDump, seedTenant } from '../support/transfer';
import { adminCookie, resetApp, useAppEnv } from '../support/app';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-transfer-route-'));

describe('admin export download', () => {
  let backend: SqlBackend;
  let customerId: string;

  const adminToken = crypto.randomBytes(24).toString('hex');
  // As the dashboard's download button sends it: a same-origin JSON POST.
  const get = (id: string, cookie = adminCookie(adminToken), headers: Record<string, string> = { origin: 'http://localhost', 'content-type': 'application/json' }) =>
    POST(new Request(`http://localhost/api/admin/customers/${id}/export`, { method: 'POST', headers: { cookie, ...headers }, body: '{}' }), { params: Promise.resolve({ id }) }, { db: backend.db });

  beforeAll(async () => {
    await useAppEnv({ OMNIOPS_ADMIN_TOKEN: adminToken, OMNIOPS_DATA_DIR: dir });
    backend = await sqlBackends.pglite();
    customerId = await seedTenant(backend.db, backend.admin);
  });
  afterAll(async () => {
    await resetApp();
    await backend?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams the customer as a transfer file download, counted as an export', async () => {
    const response = await get(customerId);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="omniops-${customerId}-\\d{4}-\\d{2}-\\d{2}\\.ndjson"$`));
    const file = path.join(dir, 'download.ndjson');
    fs.writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    const { header, footer } = await verifyFile(file);
    expect(header).toMatchObject({ customerId, options: { secrets: 'redacted' } });
    expect(footer.tables.messages!.rows).toBe(27);
    expect((await getUsage(backend.db, customerId))!.exports.used).toBe(1);

    const target = await sqlBackends.postgres();
    try {
      await importFile(target.db, file, { validate: true });
      const [copy, original] = [await canonicalDump(target.admin, customerId), await canonicalDump(backend.admin, customerId)];
      // usage includes this export: it was counted before the rows were read.
      for (const table of ['conversations', 'usage', 'scraped_pages'] as const) expect(copy[table]).toEqual(original[table]);
    } finally {
      await target.dispose();
    }
  });

  it('signs and encrypts the download with EXPORT_SIGNING_KEY and EXPORT_ENCRYPTION_KEY', async () => {
    const keys = { signingKey: Buffer.from('route-test-signing-key-0123456789abcdef'), encryptionKey: crypto.randomBytes(32) };
    await useAppEnv({
      OMNIOPS_ADMIN_TOKEN: adminToken,
      OMNIOPS_DATA_DIR: dir,
      EXPORT_SIGNING_KEY: keys.signingKey.toString(),
      EXPORT_ENCRYPTION_KEY: keys.encryptionKey.toString('base64'),
    });
    try {
      const response = await get(customerId);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(response.headers.get('content-disposition')).toMatch(/\.ndjson\.enc"$/);
      const file = path.join(dir, 'download.ndjson.enc');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.includes(Buffer.from(customerId))).toBe(false);
      fs.writeFileSync(file, bytes);
      await expect(verifyFile(file)).rejects.toMatchObject({ code: 'decrypt' });
      const { header, footer } = await verifyFile(file, keys);
      expect(header.customerId).toBe(customerId);
      expect(footer.signature).toMatchObject({ alg: 'HMAC-SHA256' });
    } finally {
      await useAppEnv({ OMNIOPS_ADMIN_TOKEN: adminToken, OMNIOPS_DATA_DIR: dir });
    }
  });

  it('answers 429 past the plan limit, 404 for an unknown customer, 400 for a malformed id', async () => {
    const free = await newCustomer(backend.db, { plan: 'free' });
    await backend.admin.query(`insert into usage (customer_id, month_year, exports) values ($1, to_char(now() at time zone 'UTC', 'YYYY-MM'), 10)`, [free]);
    const refused = await get(free);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toEqual({
      error: { code: 'plan_limit_reached', message: expect.stringMatching(/^monthly export limit reached: 10 of 10 used on the free plan/) },
    });
    expect((await get('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await get(customerId, '')).status).toBe(401);
    // Counted in usage, so never triggered from another site (tests/security/csrf.test.ts covers every route).
    const exportsBefore = (await getUsage(backend.db, customerId))!.exports.used;
    expect((await get(customerId, undefined, { origin: 'https://evil.example', 'content-type': 'application/json' })).status).toBe(403);
    expect((await get(customerId, undefined, { origin: 'http://localhost', 'content-type': 'text/plain' })).status).toBe(415);
    expect((await getUsage(backend.db, customerId))!.exports.used).toBe(exportsBefore);
    const malformed = await get('not-a-uuid');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/^id: /) } });
  });
});
