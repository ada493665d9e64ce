/**
 * SQL helpers for schema tests (run identically on PostgreSQL and PGlite through `SqlAdmin`).
 */
import type { SqlAdmin, SqlTx } from '@/lib/db/types';

const SCHEMAS = `('public', 'private', 'auth', 'supabase_migrations')`;

/**
 * A text fingerprint of everything the migrations define (schemas, relations, columns, functions,
 * triggers, policies, table privileges), to compare a database before and after an operation.
 */
export async function schemaFingerprint(admin: SqlTx): Promise<string> {
  const rows = await admin.query<{ item: string }>(`
    select 'schema ' || nspname as item from pg_catalog.pg_namespace where nspname in ${SCHEMAS}
    union all
    select 'rel ' || n.nspname || '.' || c.relname || ' kind=' || c.relkind::text || ' rls=' || c.relrowsecurity
           || ' acl=' || coalesce(c.relacl::text, '')
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where n.nspname in ${SCHEMAS}
    union all
    select 'col ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type
           || ' null=' || is_nullable || ' default=' || coalesce(column_default, '')
      from information_schema.columns where table_schema in ${SCHEMAS}
    union all
    select 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' acl=' || coalesce(p.proacl::text, '')
      from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname in ${SCHEMAS}
    union all
    select 'trigger ' || c.relname || '.' || t.tgname
      from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
     where not t.tgisinternal and n.nspname in ${SCHEMAS}
    union all
    select 'policy ' || schemaname || '.' || tablename || '.' || policyname || ' ' || cmd || ' ' || roles::text
      from pg_catalog.pg_policies where schemaname in ${SCHEMAS}
    union all
    select 'constraint ' || conrelid::regclass::text || '.' || conname
      from pg_catalog.pg_constraint c join pg_catalog.pg_namespace n on n.oid = c.connamespace
     where n.nspname in ${SCHEMAS}
    order by 1`);
  return rows.map((r) => r.item).join('\n');
}

export type Role = 'anon' | 'authenticated' | 'service_role';

/**
 * Run `fn` in a transaction as `role`, with `request.jwt.claims` set the way PostgREST sets them.
 * The transaction is always rolled back, so checks never change the fixture.
 */
export async function asRole<T>(
  admin: SqlAdmin,
  role: Role,
  claims: Record<string, unknown>,
  fn: (tx: SqlTx) => Promise<T>,
): Promise<T> {
  let result: T | undefined;
  const rollback = new Error('rollback');
  try {
    await admin.transaction(async (tx) => {
      await tx.exec(`set local role ${role}`);
      await tx.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ role, ...claims })]);
      result = await fn(tx);
      throw rollback;
    });
  } catch (error) {
    if (error !== rollback) throw error;
  }
  return result as T;
}

/** The SQLSTATE a statement fails with (in its own rolled-back transaction), or 'ok'. */
export async function sqlStateOf(
  admin: SqlAdmin,
  role: Role,
  claims: Record<string, unknown>,
  sql: string,
  params: unknown[] = [],
): Promise<string> {
  try {
    await asRole(admin, role, claims, (tx) => tx.query(sql, params));
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}
