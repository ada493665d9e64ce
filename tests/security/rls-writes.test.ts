/**
 * Finding 4 of issue 14: staff could write tenant tables directly. The public anon key and a staff
 * member's own JWT reach the Data API as role `authenticated`; the grants and `for all` policies let
 * an agent rewrite transcripts, insert unmetered crawl jobs, plant queue rows and choose the bot's
 * answers (scraped_pages). Every write goes through the service role after the server's checks, so
 * `authenticated` (and `anon`) must be able to write nothing — checked in the catalog for every
 * table, sequence, policy and definer function (a table added later is covered), and by real writes
 * as a member with a JWT claim set, on PostgreSQL and PGlite.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqlAdmin } from '@/lib/db/types';
import { sqlBackendKinds, sqlBackends, type SqlBackend } from '../support/databases';
import { asRole, sqlStateOf, type Role } from '../support/sql';

const CLIENT_ROLES: Role[] = ['anon', 'authenticated'];
const SCHEMAS = `('public', 'private')`;

describe.each(sqlBackendKinds)('what a JWT can write on %s', (kind) => {
  let backend: SqlBackend;
  let admin: SqlAdmin;
  const owner = crypto.randomUUID();
  let customer: string;
  let conversation: string;

  beforeAll(async () => {
    backend = await sqlBackends[kind]();
    admin = backend.db.admin;
    ({ customer: { id: customer } } = await backend.db.rpc<{ customer: { id: string } }>('customers_create', { name: 'Tenant' }));
    // The strongest member there is: an owner of the customer.
    await admin.query(`insert into customer_members (customer_id, user_id, role) values ($1, $2, 'owner')`, [customer, owner]);
    [{ id: conversation }] = (await admin.query<{ id: string }>(
      `insert into conversations (customer_id, session_id) values ($1, 's1') returning id`,
      [customer],
    )) as [{ id: string }];
    await admin.query(`insert into messages (conversation_id, customer_id, role, content) values ($1, $2, 'visitor', 'hello')`, [conversation, customer]);
    await admin.query(`insert into message_queue (customer_id, session_id, client_message_id, message_data) values ($1, 's1', 'm1', '{"text":"hello"}')`, [customer]);
    await admin.query(`insert into scrape_jobs (job_id, customer_id, domain) values ('job-1', $1, 'example.com')`, [customer]);
    await admin.query(`insert into scraped_pages (customer_id, url, title, content, content_hash) values ($1, 'https://example.com/', 'Home', 'Welcome', 'h1')`, [customer]);
  });
  afterAll(async () => {
    await backend?.dispose();
  });

  it('the catalog grants no client role a write on any table, column or sequence', async () => {
    const grants = await admin.query<{ role: string; relation: string; privilege: string }>(`
      select r.role, c.oid::regclass::text as relation, p.privilege
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        cross join (values ('anon'), ('authenticated')) as r(role)
        cross join (values ('INSERT'), ('UPDATE'), ('DELETE'), ('TRUNCATE')) as p(privilege)
       where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p', 'v', 'm', 'f')
         and (has_table_privilege(r.role, c.oid, p.privilege)
              or (p.privilege in ('INSERT', 'UPDATE') and has_any_column_privilege(r.role, c.oid, p.privilege)))
      union all
      select r.role, c.oid::regclass::text, p.privilege
        from pg_catalog.pg_class c
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        cross join (values ('anon'), ('authenticated')) as r(role)
        cross join (values ('USAGE'), ('UPDATE')) as p(privilege)
       where n.nspname in ${SCHEMAS} and c.relkind = 'S' and has_sequence_privilege(r.role, c.oid, p.privilege)
       order by 1, 2, 3`);
    expect(grants).toEqual([]);
  });

  it('every policy for a client role is read-only', async () => {
    const policies = await admin.query<{ policy: string; cmd: string }>(`
      select tablename || '.' || policyname as policy, cmd
        from pg_catalog.pg_policies
       where schemaname in ${SCHEMAS} and cmd <> 'SELECT'
         and roles && array['public', 'anon', 'authenticated']::name[]
       order by 1`);
    expect(policies).toEqual([]);
  });

  it('no function a client role may execute writes with its owner’s rights (SECURITY DEFINER, volatile)', async () => {
    const definers = await admin.query<{ fn: string; role: string }>(`
      select p.oid::regprocedure::text as fn, r.role
        from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        cross join (values ('anon'), ('authenticated')) as r(role)
       where n.nspname in ${SCHEMAS} and p.prosecdef and p.provolatile = 'v'
         -- Trigger functions cannot be called, only fired by a write (which needs its own grant).
         and p.prorettype <> 'pg_catalog.trigger'::pg_catalog.regtype
         and has_function_privilege(r.role, p.oid, 'execute')
       order by 1, 2`);
    expect(definers).toEqual([]);
  });

  describe('real writes as the customer’s owner (role authenticated, their JWT claims)', () => {
    const claims = () => ({ sub: owner, aud: 'authenticated' });

    /** The attacks of the finding, each on the member's own customer, where the policies allowed them. */
    const attacks = (): [string, string, unknown[]][] => [
      ['rewrite a transcript', `update messages set content = 'I never said that' where customer_id = $1`, [customer]],
      ['erase a transcript', `delete from messages where customer_id = $1`, [customer]],
      ['forge a bot answer', `insert into messages (conversation_id, customer_id, role, content) values ($1, $2, 'assistant', 'wire the money')`, [conversation, customer]],
      ['delete a conversation', `delete from conversations where customer_id = $1`, [customer]],
      ['start a conversation', `insert into conversations (customer_id, session_id) values ($1, 'forged')`, [customer]],
      ['plant a poison queue row', `insert into message_queue (customer_id, session_id, client_message_id, message_data) values ($1, 's1', 'poison', '{"text":"x"}')`, [customer]],
      ['mark queued messages done', `update message_queue set status = 'completed' where customer_id = $1`, [customer]],
      ['drop queued messages', `delete from message_queue where customer_id = $1`, [customer]],
      ['insert an unmetered crawl job', `insert into scrape_jobs (job_id, customer_id, domain) values ('free-job', $1, 'example.com')`, [customer]],
      ['jump the crawl queue', `update scrape_jobs set created_at = '2000-01-01' where customer_id = $1`, [customer]],
      ['delete crawl history', `delete from scrape_jobs where customer_id = $1`, [customer]],
      ['choose the bot’s answers', `update scraped_pages set content = 'Send your password to evil.example' where customer_id = $1`, [customer]],
      ['plant a page', `insert into scraped_pages (customer_id, url, content, content_hash) values ($1, 'https://example.com/x', 'lies', 'x')`, [customer]],
      ['erase the knowledge base', `delete from scraped_pages where customer_id = $1`, [customer]],
      ['change settings past the server’s checks', `update customers set allowed_origins = '{https://evil.example}' where id = $1`, [customer]],
      ['add a member', `insert into customer_members (customer_id, user_id, role) values ($1, gen_random_uuid(), 'owner')`, [customer]],
      ['reset usage', `update usage set messages = 0 where customer_id = $1`, [customer]],
      ['draw message positions', `select nextval('message_position_seq')`, []],
    ];

    it('each attack is refused (42501) and changes nothing', async () => {
      const snapshot = () =>
        admin.query<{ t: string; n: string }>(`
          select 'messages' as t, md5(string_agg(content, ',' order by id))::text || count(*) as n from messages
          union all select 'conversations', count(*)::text from conversations
          union all select 'message_queue', string_agg(status || client_message_id, ',' order by id) from message_queue
          union all select 'scrape_jobs', string_agg(job_id || created_at::text, ',') from scrape_jobs
          union all select 'scraped_pages', string_agg(content, ',') from scraped_pages
          union all select 'customers', string_agg(allowed_origins::text, ',') from customers
          union all select 'customer_members', count(*)::text from customer_members`);
      const before = await snapshot();
      for (const [attack, sql, params] of attacks()) {
        expect({ attack, state: await sqlStateOf(admin, 'authenticated', claims(), sql, params) }).toEqual({ attack, state: '42501' });
      }
      expect(await snapshot()).toEqual(before);
    });

    it('no table of the schema accepts an insert, update, delete or truncate from a client role', async () => {
      // Each table with a column an UPDATE may name (not an identity or generated one).
      const tables = await admin.query<{ relation: string; col: string }>(`
        select c.oid::regclass::text as relation,
               (select quote_ident(a.attname) from pg_catalog.pg_attribute a
                 where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attidentity = '' and a.attgenerated = ''
                 order by a.attnum limit 1) as col
          from pg_catalog.pg_class c
          join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname in ${SCHEMAS} and c.relkind in ('r', 'p')
         order by 1`);
      expect(tables.length).toBeGreaterThanOrEqual(15);
      const refused: string[] = [];
      const allowed: string[] = [];
      for (const role of CLIENT_ROLES) {
        for (const { relation, col } of tables) {
          for (const sql of [
            `insert into ${relation} default values`,
            `update ${relation} set ${col} = ${col}`,
            `delete from ${relation}`,
            `truncate ${relation}`,
          ]) {
            const state = await sqlStateOf(admin, role, role === 'anon' ? {} : claims(), sql);
            (state === '42501' ? refused : allowed).push(`${role}: ${sql} → ${state}`);
          }
        }
      }
      expect(allowed).toEqual([]);
      expect(refused.length).toBe(tables.length * 4 * CLIENT_ROLES.length);
    });

    it('a member of one customer can write nothing into another customer, table by table', async () => {
      // Each insert is complete (positions given, so no sequence privilege is needed): only the
      // grants and policies of the table itself can refuse it.
      const { customer: { id: other } } = await backend.db.rpc<{ customer: { id: string } }>('customers_create', { name: 'Other tenant' });
      const [{ id: theirConversation }] = (await admin.query<{ id: string }>(
        `insert into conversations (customer_id, session_id) values ($1, 'theirs') returning id`,
        [other],
      )) as [{ id: string }];
      const writes: [string, string, unknown[]][] = [
        ['messages', `insert into messages (conversation_id, customer_id, role, content, position) values ($1, $2, 'bot', 'wire the money', 900000001)`, [theirConversation, other]],
        ['conversations', `insert into conversations (customer_id, session_id) values ($1, 'planted')`, [other]],
        ['message_queue', `insert into message_queue (customer_id, session_id, client_message_id, message_data, position) values ($1, 'theirs', 'x', '{"text":"x"}', 900000002)`, [other]],
        ['scrape_jobs', `insert into scrape_jobs (job_id, customer_id, domain) values ('their-job', $1, 'example.com')`, [other]],
        ['scraped_pages', `insert into scraped_pages (customer_id, url, content, content_hash) values ($1, 'https://example.com/y', 'lies', 'y')`, [other]],
        ['customer_members', `insert into customer_members (customer_id, user_id, role) values ($1, $2, 'owner')`, [other, owner]],
        ['usage', `update usage set messages = 0 where customer_id = $1`, [other]],
        ['customers', `update customers set allowed_origins = '{https://evil.example}' where id = $1`, [other]],
      ];
      const states: Record<string, string> = {};
      for (const [table, sql, params] of writes) states[table] = await sqlStateOf(admin, 'authenticated', claims(), sql, params);
      expect(states).toEqual(Object.fromEntries(writes.map(([table]) => [table, '42501'])));
    });

    it('reading stays as before: the member sees their customer’s rows', async () => {
      const seen = await asRole(admin, 'authenticated', claims(), (tx) =>
        tx.query<{ n: number }>(`select (select count(*) from messages)::int + (select count(*) from scraped_pages)::int as n`),
      );
      expect(seen).toEqual([{ n: 2 }]);
    });
  });
});
