/**
 * Test data written through raw SQL where the tested code only reads or deletes it (the queue,
 * conversations, crawl jobs), and through the real RPCs where one exists (customers).
 */
import { createCustomer, type CustomerInput } from '@/lib/customers';
import type { Db, SqlTx } from '@/lib/db/types';

export async function newCustomer(db: Db, input: Partial<CustomerInput> = {}): Promise<string> {
  const { customer } = await createCustomer(db, { name: 'Test Co', ...input });
  return customer.id;
}

/**
 * `count` completed message_queue rows, in one statement, with `expiresAt` an SQL expression (e.g.
 * `now() - interval '1 minute'`); client_message_id is `<prefix>-<n>`.
 */
export async function insertCompletedMessages(
  tx: SqlTx,
  customerId: string,
  count: number,
  expiresAt: string,
  prefix = 'm',
): Promise<void> {
  await tx.query(
    `insert into message_queue (customer_id, session_id, client_message_id, message_data, status, processed_at, expires_at)
     select $1, 'session', $3 || '-' || i, '{"text":"hello"}', 'completed', now(), ${expiresAt}
       from generate_series(1, $2::int) i`,
    [customerId, count, prefix],
  );
}

/** Rows of `table` matching `where` (an SQL condition on literal values). */
export async function countRows(tx: SqlTx, table: string, where = 'true'): Promise<number> {
  const [row] = await tx.query<{ n: number }>(`select count(*)::int as n from ${table} where ${where}`);
  return row!.n;
}
