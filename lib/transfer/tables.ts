/**
 * The tenant tables a transfer moves, in dependency order (parents before children): THE list.
 * Adding a tenant table is one entry here; the SQL side (supabase/migrations/*_transfer.sql) is
 * generic over any table of schema public with a uuid `customer_id` column, and reads columns from
 * the catalog, so added columns travel without an edit anywhere.
 *
 * Not listed on purpose: `plan_limits` (global configuration, not tenant data) and `cleanup_runs`
 * (the scheduler's ledger of this deployment).
 */
export interface TenantTable {
  name: string;
  /**
   * Keyset order of a customer's rows: unique within the customer, matching an index that starts
   * with the customer column, so every page is one index range scan.
   */
  key: readonly string[];
  /** Rows whose `column` has one of `values` are not part of a customer's data (not exported). */
  skip?: { column: string; values: readonly string[] };
  /** Local bookkeeping columns, not exported (they are the target's own business). */
  omit?: readonly string[];
  /**
   * Kept by triggers from other tables: not written on import (the triggers rebuild it from the
   * rows written) but compared with the file's rows, which must come out identical.
   */
  derived?: boolean;
  /** Columns whose values are secrets: exported as "[REDACTED]" unless explicitly included. */
  secretColumns?: readonly string[];
}

export const TENANT_TABLES = [
  // The widget key is in the customer's embed snippet, so it is not a credential; still it is only
  // exported on request (a file that carries it lets anyone holding it impersonate the widget).
  { name: 'customers', key: ['id'], secretColumns: ['public_key'] },
  { name: 'customer_members', key: ['user_id'] },
  { name: 'conversations', key: ['session_id'] },
  { name: 'messages', key: ['created_at', 'id'] },
  // Completed rows are delivered (they are in messages) and expire within 24 h: only the live
  // outbox (pending, processing) and dead letters (failed, undelivered visitor text) move.
  { name: 'message_queue', key: ['session_id', 'client_message_id'], skip: { column: 'status', values: ['completed'] } },
  { name: 'scrape_jobs', key: ['job_id'] },
  { name: 'scrape_job_results', key: ['job_id', 'url'] },
  { name: 'scrape_job_stats', key: ['job_id'], derived: true, omit: ['updated_at'] },
  { name: 'scraped_pages', key: ['url'] },
  { name: 'usage', key: ['month_year'] },
] as const satisfies readonly TenantTable[];

export type TableName = (typeof TENANT_TABLES)[number]['name'];

export const TABLE_NAMES = TENANT_TABLES.map((t) => t.name) as [TableName, ...TableName[]];

/** The column naming the customer: `id` in customers, `customer_id` everywhere else (as in SQL). */
export function customerColumnOf(table: TableName): string {
  return table === 'customers' ? 'id' : 'customer_id';
}

export function tableSpec(name: TableName): TenantTable {
  return TENANT_TABLES.find((t) => t.name === name)!;
}

/** The arguments that make the SQL functions select exactly what an export contains. */
export function selection(table: TenantTable): { table: string; skip?: TenantTable['skip'] } {
  return table.skip ? { table: table.name, skip: table.skip } : { table: table.name };
}
