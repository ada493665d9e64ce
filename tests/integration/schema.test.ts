/**
 * The schema's own guarantees, checked on real PostgreSQL and on PGlite: the crawl statistics
 * trigger, the cleanup functions, tenant isolation by RLS, and that RPCs are service-role only.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, SqlAdmin } from '@/lib/db/types';
import { migratedPostgres, sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { asRole, sqlStateOf } from '../support/sql';

async function createCustomer(db: Db, name: string): Promise<string> {
  const { customer } = await db.rpc<{ customer: { id: string } }>('customers_create', { name });
  return customer.id;
}

async function createJob(admin: SqlAdmin, customerId: string, createdAt = 'now()'): Promise<string> {
  const jobId = `job_${crypto.randomBytes(6).toString('hex')}`;
  await admin.query(
    `insert into scrape_jobs (job_id, customer_id, domain, created_at) values ($1, $2, 'example.com', ${createdAt})`,
    [jobId, customerId],
  );
  return jobId;
}

interface Stats {
  total_pages: number;
  successful_pages: number;
  failed_pages: number;
  skipped_pages: number;
  timed_pages: number;
  total_processing_time_ms: string;
  total_bytes: string;
  avg_processing_time_ms: string | null;
  pages_per_second: string | null;
}

async function statsOf(admin: SqlAdmin, jobId: string): Promise<Stats | undefined> {
  const rows = await admin.query<Stats & Record<string, unknown>>(
    `select total_pages, successful_pages, failed_pages, skipped_pages, timed_pages,
            total_processing_time_ms::text, total_bytes::text,
            avg_processing_time_ms::text, pages_per_second::text
       from scrape_job_stats where job_id = $1`,
    [jobId],
  );
  return rows[0];
}

describe.each(sqlBackendKinds)('schema on %s', (kind) => {
  let backend: SqlBackend;
  let admin: SqlAdmin;
  let db: Db;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    db = backend.db;
    admin = backend.db.admin;
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  describe('scrape_job_stats trigger', () => {
    it('counts mixed success / failed / skipped results, incrementally per statement', async () => {
      const customerId = await createCustomer(db, 'Stats Co');
      const jobId = await createJob(admin, customerId);
      expect(await statsOf(admin, jobId)).toBeUndefined();

      // One multi-row statement ...
      await admin.query(
        `insert into scrape_job_results (job_id, customer_id, url, status, http_status, processing_time_ms, bytes, created_at)
         values ($1, $2, 'https://example.com/a', 'success', 200, 100, 1000, '2026-01-01T00:00:00Z'),
                ($1, $2, 'https://example.com/b', 'success', 200, 200, 1000, '2026-01-01T00:00:01Z'),
                ($1, $2, 'https://example.com/c', 'failed', 500, 50, null, '2026-01-01T00:00:02Z')`,
        [jobId, customerId],
      );
      // ... then single-row statements.
      await admin.query(
        `insert into scrape_job_results (job_id, customer_id, url, status, http_status, processing_time_ms, bytes, created_at)
         values ($1, $2, 'https://example.com/d', 'success', 200, 300, 1000, '2026-01-01T00:00:05Z')`,
        [jobId, customerId],
      );
      await admin.query(
        `insert into scrape_job_results (job_id, customer_id, url, status, error_message, created_at)
         values ($1, $2, 'https://example.com/e', 'failed', 'timeout', '2026-01-01T00:00:06Z')`,
        [jobId, customerId],
      );
      await admin.query(
        `insert into scrape_job_results (job_id, customer_id, url, status, created_at)
         values ($1, $2, 'https://example.com/robots-blocked', 'skipped', '2026-01-01T00:00:10Z')`,
        [jobId, customerId],
      );

      expect(await statsOf(admin, jobId)).toEqual({
        total_pages: 6,
        successful_pages: 3,
        failed_pages: 2,
        skipped_pages: 1,
        timed_pages: 4,
        total_processing_time_ms: '650',
        total_bytes: '3000',
        avg_processing_time_ms: '162.50', // (100 + 200 + 50 + 300) / 4 timed results
        pages_per_second: '0.600', // 6 pages over the 10 s between first and last result
      });
    });

    it('ignores a repeated page (ON CONFLICT DO NOTHING) and refuses to rewrite history', async () => {
      const customerId = await createCustomer(db, 'Repeat Co');
      const jobId = await createJob(admin, customerId);
      const insert = `insert into scrape_job_results (job_id, customer_id, url, status, processing_time_ms)
                      values ($1, $2, 'https://example.com/', 'success', 10) on conflict (job_id, url) do nothing`;
      await admin.query(insert, [jobId, customerId]);
      await admin.query(insert, [jobId, customerId]);
      expect((await statsOf(admin, jobId))?.total_pages).toBe(1);

      await expect(
        admin.query(`update scrape_job_results set status = 'failed' where job_id = $1`, [jobId]),
      ).rejects.toMatchObject({ code: '55000' });
      expect((await statsOf(admin, jobId))?.successful_pages).toBe(1);
    });

    it('subtracts deleted results and disappears with its job', async () => {
      const customerId = await createCustomer(db, 'Delete Co');
      const jobId = await createJob(admin, customerId);
      await admin.query(
        `insert into scrape_job_results (job_id, customer_id, url, status, processing_time_ms, bytes)
         select $1, $2, 'https://example.com/' || i, case when i % 2 = 0 then 'success' else 'failed' end, i, 10
           from generate_series(1, 10) i`,
        [jobId, customerId],
      );
      await admin.query(`delete from scrape_job_results where job_id = $1 and url = 'https://example.com/2'`, [jobId]);
      expect(await statsOf(admin, jobId)).toMatchObject({
        total_pages: 9,
        successful_pages: 4,
        failed_pages: 5,
        timed_pages: 9,
        total_processing_time_ms: '53',
        total_bytes: '90',
      });

      await admin.query('delete from scrape_jobs where job_id = $1', [jobId]);
      expect(await statsOf(admin, jobId)).toBeUndefined();
      const left = await admin.query<{ n: number }>('select count(*)::int as n from scrape_job_results where job_id = $1', [
        jobId,
      ]);
      expect(left[0]!.n).toBe(0);
    });
  });

  describe('cleanup functions', () => {
    it('cleanup_expired_message_queue() deletes only expired completed rows, in bounded batches', async () => {
      const customerId = await createCustomer(db, 'Queue Co');
      const insert = (key: string, status: string, expiresAt: string | null, createdAt = 'now()') =>
        admin.query(
          `insert into message_queue (customer_id, session_id, client_message_id, message_data, status, expires_at, created_at,
                                      processed_at)
           values ($1, 's1', $2, '{"text":"hi"}', $3, $4::timestamptz, ${createdAt},
                   case when $3 in ('completed', 'failed') then now() end)`,
          [customerId, key, status, expiresAt],
        );
      for (let i = 0; i < 5; i++) await insert(`expired-${i}`, 'completed', new Date(Date.now() - 60_000).toISOString());
      await insert('fresh-completed', 'completed', new Date(Date.now() + 3_600_000).toISOString());
      await insert('old-pending', 'pending', null, `now() - interval '30 days'`);
      await insert('old-processing', 'processing', null, `now() - interval '30 days'`);
      await insert('dead-letter', 'failed', null, `now() - interval '30 days'`);

      // Only a completed message may expire, and it must: a live or dead-lettered message never does.
      await expect(insert('pending-with-expiry', 'pending', new Date().toISOString())).rejects.toMatchObject({ code: '23514' });
      await expect(insert('completed-without-expiry', 'completed', null)).rejects.toMatchObject({ code: '23514' });

      const firstBatch = await admin.query<{ n: number }>(
        'select cleanup_expired_message_queue(p_batch_size => 2, p_max_batches => 1) as n',
      );
      expect(firstBatch[0]!.n).toBe(2);
      const rest = await admin.query<{ n: number }>('select cleanup_expired_message_queue() as n');
      expect(rest[0]!.n).toBe(3);
      const again = await admin.query<{ n: number }>('select cleanup_expired_message_queue() as n');
      expect(again[0]!.n).toBe(0);

      const left = await admin.query<{ client_message_id: string }>(
        'select client_message_id from message_queue where customer_id = $1 order by 1',
        [customerId],
      );
      expect(left.map((r) => r.client_message_id)).toEqual([
        'dead-letter',
        'fresh-completed',
        'old-pending',
        'old-processing',
      ]);
    });

    it('cleanup_old_scrape_jobs(90) deletes jobs older than 90 days with their results and stats', async () => {
      const customerId = await createCustomer(db, 'Old Jobs Co');
      const old = await createJob(admin, customerId, `now() - interval '91 days'`);
      const recent = await createJob(admin, customerId, `now() - interval '89 days'`);
      for (const jobId of [old, recent]) {
        await admin.query(
          `insert into scrape_job_results (job_id, customer_id, url, status) values ($1, $2, 'https://example.com/', 'success')`,
          [jobId, customerId],
        );
      }
      const deleted = await admin.query<{ n: number }>('select cleanup_old_scrape_jobs(90) as n');
      expect(deleted[0]!.n).toBe(1);
      const jobs = await admin.query<{ job_id: string }>('select job_id from scrape_jobs where customer_id = $1', [customerId]);
      expect(jobs.map((j) => j.job_id)).toEqual([recent]);
      expect(await statsOf(admin, old)).toBeUndefined();
      expect((await statsOf(admin, recent))?.total_pages).toBe(1);

      await expect(admin.query('select cleanup_old_scrape_jobs(-1)')).rejects.toMatchObject({ code: '22023' });
    });
  });

  describe('row level security', () => {
    const userA = crypto.randomUUID();
    const userB = crypto.randomUUID();
    let customerA: string;
    let customerB: string;
    const tenantTables = [
      'conversations',
      'messages',
      'message_queue',
      'scrape_jobs',
      'scrape_job_results',
      'scrape_job_stats',
      'scraped_pages',
      'usage',
      'customer_members',
    ];

    beforeAll(async () => {
      customerA = await createCustomer(db, 'Tenant A');
      customerB = await createCustomer(db, 'Tenant B');
      for (const [customer, user] of [
        [customerA, userA],
        [customerB, userB],
      ] as const) {
        await admin.query(`insert into customer_members (customer_id, user_id, role) values ($1, $2, 'owner')`, [
          customer,
          user,
        ]);
        const [conversation] = await admin.query<{ id: string }>(
          `insert into conversations (customer_id, session_id) values ($1, 'session-1') returning id`,
          [customer],
        );
        await admin.query(
          `insert into messages (conversation_id, customer_id, role, content) values ($1, $2, 'visitor', 'hello')`,
          [conversation!.id, customer],
        );
        await admin.query(
          `insert into message_queue (customer_id, session_id, client_message_id, message_data)
           values ($1, 'session-1', 'm1', '{"text":"hello"}')`,
          [customer],
        );
        const jobId = await createJob(admin, customer);
        await admin.query(
          `insert into scrape_job_results (job_id, customer_id, url, status) values ($1, $2, 'https://example.com/', 'success')`,
          [jobId, customer],
        );
        await admin.query(
          `insert into scraped_pages (customer_id, url, title, content, content_hash)
           values ($1, 'https://example.com/', 'Home', 'Welcome', 'h1')`,
          [customer],
        );
        await admin.query(`insert into usage (customer_id, month_year, messages) values ($1, '2026-11', 1)`, [customer]);
      }
    });

    const claimsOf = (sub: string) => ({ sub, aud: 'authenticated' });

    it('shows an authenticated member only the rows of their own customers', async () => {
      const seen = await asRole(admin, 'authenticated', claimsOf(userA), async (tx) => {
        const counts: Record<string, { mine: number; others: number }> = {};
        for (const table of [...tenantTables, 'customers']) {
          const key = table === 'customers' ? 'id' : 'customer_id';
          const [row] = await tx.query<{ mine: number; others: number }>(
            `select count(*) filter (where ${key} = $1)::int as mine, count(*) filter (where ${key} <> $1)::int as others from ${table}`,
            [customerA],
          );
          counts[table] = row!;
        }
        return counts;
      });
      for (const [table, count] of Object.entries(seen)) {
        expect({ table, ...count }).toEqual({ table, mine: expect.any(Number), others: 0 });
        expect(count.mine, table).toBeGreaterThan(0);
      }
    });

    it("never lets a member change another customer's rows, nor their own (writes go through the service role)", async () => {
      // Every write of a member is refused outright (tests/security/rls-writes.test.ts covers each
      // table); moving one's own row to another tenant or writing into it is refused as well.
      for (const table of ['conversations', 'messages', 'message_queue', 'scrape_jobs', 'scraped_pages']) {
        for (const sql of [`update ${table} set customer_id = customer_id where customer_id = $1`, `delete from ${table} where customer_id = $1`]) {
          for (const customer of [customerA, customerB]) {
            expect({ sql, state: await sqlStateOf(admin, 'authenticated', claimsOf(userA), sql, [customer]) }).toEqual({ sql, state: '42501' });
          }
        }
      }
      expect(
        await sqlStateOf(admin, 'authenticated', claimsOf(userA), `update scrape_jobs set customer_id = $1 where customer_id = $2`, [
          customerB,
          customerA,
        ]),
      ).toBe('42501');
      expect(
        await sqlStateOf(
          admin,
          'authenticated',
          claimsOf(userA),
          `insert into scraped_pages (customer_id, url, content_hash) values ($1, 'https://evil.example/', 'x')`,
          [customerB],
        ),
      ).toBe('42501');
      for (const customer of [customerA, customerB]) {
        expect(
          await sqlStateOf(admin, 'authenticated', claimsOf(userA), `update customers set name = 'pwned' where id = $1 returning 1`, [customer]),
        ).toBe('42501');
      }
      const names = await admin.query<{ name: string }>('select name from customers where id in ($1, $2) order by name', [customerA, customerB]);
      expect(names.map((r) => r.name)).toEqual(['Tenant A', 'Tenant B']);
    });

    it('keeps audit and billing data read-only for members', async () => {
      const claims = claimsOf(userA);
      for (const sql of [
        `update customers set plan = 'enterprise' where id = '${customerA}'`,
        `delete from scrape_job_results where customer_id = '${customerA}'`,
        `update scrape_job_stats set total_pages = 0 where customer_id = '${customerA}'`,
        `update usage set messages = 0 where customer_id = '${customerA}'`,
        `insert into customer_members (customer_id, user_id) values ('${customerA}', gen_random_uuid())`,
        // The scheduled runs are shown on every member's overview, read-only.
        `update cleanup_runs set status = 'failed'`,
        `delete from cleanup_runs`,
      ]) {
        expect({ sql, state: await sqlStateOf(admin, 'authenticated', claims, sql) }).toEqual({ sql, state: '42501' });
      }
      // Settings too: the server validates and journals them (PATCH /api/admin/customers/<id>).
      expect(await sqlStateOf(admin, 'authenticated', claims, `update customers set name = 'A2' where id = '${customerA}'`)).toBe(
        '42501',
      );
    });

    it('gives anon nothing', async () => {
      for (const table of [...tenantTables, 'customers', 'cleanup_runs']) {
        expect({ table, state: await sqlStateOf(admin, 'anon', {}, `select * from ${table}`) }).toEqual({
          table,
          state: '42501',
        });
      }
    });

    it('sees nothing without a user id in the claims', async () => {
      const rows = await asRole(admin, 'authenticated', {}, (tx) => tx.query('select id from customers'));
      expect(rows).toEqual([]);
    });
  });

  it('lets service_role execute every RPC in schema public, authenticated only the staff reads (invoker rights), anon none', async () => {
    const rows = await admin.query<{ fn: string; name: string; anon: boolean; authenticated: boolean; service: boolean; unnamed: boolean; definer: boolean }>(`
      select p.oid::regprocedure::text as fn, p.proname as name,
             has_function_privilege('anon', p.oid, 'execute') as anon,
             has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
             has_function_privilege('service_role', p.oid, 'execute') as service,
             coalesce(p.proargnames[1], '') = '' as unnamed,
             p.prosecdef as definer
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public'`);
    expect(rows.length).toBeGreaterThanOrEqual(8);
    // What a staff member's JWT may call: reads of the dashboard, each filtered by RLS because it
    // runs with the caller's rights (a SECURITY DEFINER function would bypass the policies).
    const memberReads = [
      'conversation_get', 'conversations_list', 'crawl_job_get', 'crawl_job_list', 'crawl_job_results', 'crawl_job_timeline',
      'customers_get', 'customers_list', 'dashboard_activity', 'queue_list', 'queue_stats', 'usage_get',
    ];
    expect(rows.filter((r) => r.authenticated).map((r) => r.name).sort()).toEqual(memberReads);
    for (const row of rows) {
      expect({ fn: row.fn, anon: row.anon, service: row.service }).toEqual({ fn: row.fn, anon: false, service: true });
      if (row.authenticated) expect({ fn: row.fn, definer: row.definer }).toEqual({ fn: row.fn, definer: false });
      // PostgREST passes the request body only to a single *unnamed* json/jsonb parameter.
      if (row.fn.endsWith('(jsonb)')) expect({ fn: row.fn, unnamed: row.unnamed }).toEqual({ fn: row.fn, unnamed: true });
    }
  });
});

describe('scrape_job_stats under concurrent writers (postgres)', () => {
  it('keeps exact counts with 8 inserters writing results for one job at once', async () => {
    const pg = await migratedPostgres();
    try {
      const customerId = await createCustomer(pg.db, 'Concurrent Co');
      const jobId = await createJob(pg.db.admin, customerId);
      const writers = 8;
      const perWriter = 50;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let i = 0; i < perWriter; i++) {
            await pg.db.admin.query(
              `insert into scrape_job_results (job_id, customer_id, url, status, processing_time_ms, bytes)
               values ($1, $2, $3, $4, 10, 100)`,
              [jobId, customerId, `https://example.com/${w}/${i}`, i % 5 === 0 ? 'failed' : 'success'],
            );
          }
        }),
      );
      expect(await statsOf(pg.db.admin, jobId)).toMatchObject({
        total_pages: writers * perWriter,
        successful_pages: writers * 40,
        failed_pages: writers * 10,
        timed_pages: writers * perWriter,
        total_processing_time_ms: String(writers * perWriter * 10),
        total_bytes: String(writers * perWriter * 100),
      });
    } finally {
      await pg.dispose();
    }
  });
});
