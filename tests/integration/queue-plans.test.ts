/**
 * The queue finds its rows by key however much message_queue grew since a connection first ran
 * it (supabase/migrations/20261202150000_queue_custom_plans.sql). PL/pgSQL keeps a plan per
 * connection; one made while the table was small — a new customer, a fresh database — read the
 * whole table on every claim and delivery until the next ANALYZE: under the HTTP benchmark a
 * delivery went from 3 ms to 17 ms within a minute. Counted here with the table's sequential scans
 * (`pg_stat_user_tables.seq_scan`), on one connection, with autovacuum off for the table so that no
 * ANALYZE replans behind the test's back.
 */
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresDb } from '@/lib/db/postgres';
import { claimMessages, deliverMessages, enqueueMessages } from '@/lib/queue';
import { migratedPostgres } from '../support/databases';
import { insertCompletedMessages, newCustomer } from '../support/fixtures';

let pg: Awaited<ReturnType<typeof migratedPostgres>>;
/** The one connection whose cached plans are under test. */
let db: PostgresDb;
let stats: postgres.Sql;

beforeAll(async () => {
  pg = await migratedPostgres();
  await pg.db.admin.exec('alter table message_queue set (autovacuum_enabled = false)');
  db = new PostgresDb(pg.database.url, { max: 1 });
  stats = postgres(pg.database.url, { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await stats?.end();
  await db?.close();
  await pg?.dispose();
});

/** Claim and deliver one new message of `session` by id, as a widget send does. */
async function sendOne(customerId: string, session: string, n: number): Promise<void> {
  const { messages } = await enqueueMessages(db, {
    customerId,
    sessionId: session,
    messages: [{ clientMessageId: `m-${n}`, data: { text: 'hello' } }],
  });
  const ids = messages.map((m) => m.id);
  expect(await claimMessages(db, { ids, limit: 1 })).toHaveLength(1);
  const outcome = await deliverMessages(db, [{ id: ids[0]!, reply: { content: 'hi' } }]);
  expect(outcome.delivered).toEqual(ids);
}

/** message_queue's sequential scans so far, with the connection's pending statistics flushed. */
async function seqScans(): Promise<number> {
  await db.admin.query('select pg_stat_force_next_flush()');
  await db.admin.query('select 1'); // the flush happens when the backend goes idle after a statement
  await stats`select pg_stat_clear_snapshot()`;
  const [row] = await stats<{ seq_scan: string }[]>`
    select seq_scan from pg_stat_user_tables where relname = 'message_queue'`;
  return Number(row!.seq_scan);
}

it('claims and delivers by key after the table grew under the connection’s cached plans', async () => {
  const customerId = await newCustomer(pg.db, { plan: 'enterprise' });
  // Ten sends while the table is small: the plans the connection keeps are made now.
  for (let i = 0; i < 10; i++) await sendOne(customerId, 'session-small', i);
  await insertCompletedMessages(pg.db.admin, customerId, 20_000, `now() + interval '1 day'`, 'old');

  const before = await seqScans();
  for (let i = 0; i < 10; i++) await sendOne(customerId, 'session-large', i);
  expect((await seqScans()) - before).toBe(0);
});
