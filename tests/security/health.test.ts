/**
 * Finding 9 of issue 14: `/api/health` told anyone the database's host and port (in its connection
 * errors), the server's version and schema, the cache backend and the outage journal — a map for an
 * attacker. Without a session it now answers `{ status: 'up' | 'down' }` (and 200 / 503); the
 * details are for a signed-in administrator or staff member, or a caller presenting CRON_SECRET
 * (monitoring).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as health } from '@/app/api/health/route';
import { adminCookie, resetApp, useAppEnv } from '../support/app';
import { migratedPostgres } from '../support/databases';

const ADMIN_TOKEN = crypto.randomBytes(24).toString('hex');
const CRON_SECRET = 'health-test-cron-secret-0123456789';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'omniops-health-sec-'));

const get = (headers: Record<string, string> = {}) => health(new Request('http://127.0.0.1:3000/api/health', { headers }));

describe('/api/health without a session', () => {
  let pg: Awaited<ReturnType<typeof migratedPostgres>>;

  beforeAll(async () => {
    pg = await migratedPostgres();
  });
  afterAll(async () => {
    await resetApp();
    await pg?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('up: says only that, not the server, its version or the schema', async () => {
    await useAppEnv({ DATABASE_URL: pg.database.url, DB_FALLBACK: 'off', OMNIOPS_ADMIN_TOKEN: ADMIN_TOKEN, CRON_SECRET, OMNIOPS_DATA_DIR: dataDir });
    const response = await get();
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ status: 'up' });
    expect(text).not.toMatch(/postgres|PostgreSQL|schema|version|\d{14}/i);
  });

  it('down: no host:port, no error text', async () => {
    // A primary nobody listens on: the connection error names its address.
    await useAppEnv({ DATABASE_URL: 'postgres://postgres@127.0.0.1:9/omniops', DB_FALLBACK: 'off', OMNIOPS_ADMIN_TOKEN: ADMIN_TOKEN, CRON_SECRET, OMNIOPS_DATA_DIR: dataDir });
    const response = await get();
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ status: 'down' });
    expect(text).not.toMatch(/127\.0\.0\.1|:9\b|ECONNREFUSED|connect/);
    // A wrong secret or a forged cookie is no session.
    for (const headers of [{ authorization: 'Bearer wrong' }, { cookie: 'omniops_session=v1.9999999999999.forged' }, { authorization: `Basic ${CRON_SECRET}` }] as Record<string, string>[]) {
      expect(await (await get(headers)).json()).toEqual({ status: 'down' });
    }
    // The details, for those who operate it: the error with its address.
    for (const headers of [{ cookie: adminCookie(ADMIN_TOKEN) }, { authorization: `Bearer ${CRON_SECRET}` }] as Record<string, string>[]) {
      const detailed = await get(headers);
      expect(detailed.status).toBe(503);
      expect(await detailed.json()).toMatchObject({ ok: false, db: { ok: false, error: expect.stringMatching(/127\.0\.0\.1:9|ECONNREFUSED/) } });
    }
  });
});
