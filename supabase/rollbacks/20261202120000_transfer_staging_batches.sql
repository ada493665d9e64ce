-- Rollback of 20261202120000_transfer_staging_batches.sql: staging one row per staged row again,
-- with the functions as 20261122040000_transfer.sql defined them. Staged batches are dropped
-- (imports in progress fail at commit and are run again).
-- The rows of a staged import, in file order per table (seq), as the file has them.
create table private.transfer_import_rows (
  import_id uuid not null references private.transfer_imports (id) on delete cascade,
  table_name text not null,
  seq bigint not null,
  row jsonb not null,
  primary key (import_id, table_name, seq)
);

alter table private.transfer_import_rows enable row level security;
revoke all on table private.transfer_import_rows from public, anon, authenticated;
grant select, insert, update, delete on table private.transfer_import_rows to service_role;


-- transfer_import_stage({ importId, table, firstSeq, rows: [row…] }) → { staged }
-- Stages a batch of a table's rows (seq = firstSeq, firstSeq + 1, …; idempotent on seq, so a
-- retried batch adds nothing). Refuses a row of another customer, and a column the target does not
-- have (the target's schema is older than the file's: migrate it first) — writing would silently
-- drop that column's values.
create or replace function public.transfer_import_stage(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_import private.transfer_imports := private.transfer_staging_import((private.arg(p, 'importId', 'string') #>> '{}')::uuid);
  v_table text := private.arg(p, 'table', 'string') #>> '{}';
  v_rel regclass := private.transfer_table(v_table);
  v_rows jsonb := private.arg(p, 'rows', 'array');
  v_first bigint := (private.arg(p, 'firstSeq', 'number') #>> '{}')::bigint;
  v_bad text;
  v_count integer;
begin
  if v_import.status <> 'staging' then
    raise exception using errcode = '55000', message = format('importId: import %s is already committed', v_import.id);
  end if;
  if exists (select 1 from jsonb_array_elements(v_rows) r where jsonb_typeof(r) <> 'object') then
    raise exception using errcode = '22023', message = 'rows: each row must be an object';
  end if;
  select r ->> private.transfer_customer_column(v_table) into v_bad
    from jsonb_array_elements(v_rows) r
   where (r ->> private.transfer_customer_column(v_table)) is distinct from v_import.customer_id::text
   limit 1;
  if found then
    raise exception using errcode = '22023',
      message = format('rows: a row of %s belongs to customer %s, not to the imported customer %s', v_table, coalesce(v_bad, 'null'), v_import.customer_id);
  end if;
  select k into v_bad
    from (select distinct jsonb_object_keys(r) as k from jsonb_array_elements(v_rows) r) keys
   where not exists (select 1 from private.transfer_columns(v_rel) c where c.name = keys.k)
   limit 1;
  if found then
    raise exception using errcode = '42703',
      message = format('column %s.%s does not exist on the target (or is generated there): apply the migrations to the target first', v_table, v_bad);
  end if;

  insert into private.transfer_import_rows (import_id, table_name, seq, row)
  select v_import.id, v_table, v_first + t.ord - 1, t.r
    from jsonb_array_elements(v_rows) with ordinality as t(r, ord)
  on conflict do nothing;
  get diagnostics v_count = row_count;
  update private.transfer_imports i set touched_at = now() where i.id = v_import.id;
  return jsonb_build_object('staged', v_count);
end
$$;

-- Writes the staged rows of one table into the live table, in file order; returns the rows written.
-- The column list is the keys of the table's first staged row (all rows of a table have the same
-- keys): a column the file lacks (an older source) gets the target's default. With p_skip, rows
-- colliding with an existing row (any unique constraint) are left as they are. Columns filled from
-- a sequence (messages.position) keep the file's numbers and move the sequence past them, so rows
-- written later on the target still sort after the imported ones.
create or replace function private.transfer_write_table(p_import uuid, p_table text, p_skip boolean) returns bigint
language plpgsql
as $$
declare
  v_rel regclass := private.transfer_table(p_table);
  v_first jsonb;
  v_cols text;
  v_values text;
  v_count bigint;
  v_seq record;
  v_max bigint;
begin
  select s.row into v_first from private.transfer_import_rows s
   where s.import_id = p_import and s.table_name = p_table order by s.seq limit 1;
  if v_first is null then
    return 0;
  end if;
  select string_agg(format('%I', c.name), ', ' order by c.num), string_agg(format('r.%I', c.name), ', ' order by c.num)
    into v_cols, v_values
    from private.transfer_columns(v_rel) c where v_first ? c.name;
  execute format(
    'insert into %s (%s) select %s from private.transfer_import_rows s
       cross join lateral jsonb_populate_record(null::%s, s.row) r
      where s.import_id = $1 and s.table_name = $2 order by s.seq%s',
    v_rel, v_cols, v_values, v_rel, case when p_skip then ' on conflict do nothing' else '' end)
    using p_import, p_table;
  get diagnostics v_count = row_count;

  for v_seq in
    select a.attname::text as col, dep.refobjid::regclass as seq
      from pg_catalog.pg_attrdef d
      join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
      join pg_catalog.pg_depend dep on dep.classid = 'pg_catalog.pg_attrdef'::regclass and dep.objid = d.oid
                                   and dep.refclassid = 'pg_catalog.pg_class'::regclass
      join pg_catalog.pg_class s on s.oid = dep.refobjid and s.relkind = 'S'
     where d.adrelid = v_rel and v_first ? a.attname
  loop
    execute format('select max((s.row ->> %L)::bigint) from private.transfer_import_rows s where s.import_id = $1 and s.table_name = $2', v_seq.col)
      into v_max using p_import, p_table;
    if v_max is not null then
      perform private.transfer_advance_sequence(v_seq.seq, v_max);
    end if;
  end loop;
  return v_count;
end
$$;

-- Raises 22023 unless the customer's rows of a derived table (kept by triggers from other tables:
-- scrape_job_stats) equal the staged ones exactly (ignoring `p_omit` columns), in both directions.
create or replace function private.transfer_verify_derived(p_import uuid, p_table text, p_customer uuid, p_omit text[]) returns void
language plpgsql
as $$
declare
  v_rel regclass := private.transfer_table(p_table);
  v_drop text[];
  v_missing bigint;
  v_extra bigint;
begin
  select coalesce(array_agg(a.attname::text), '{}') into v_drop
    from pg_catalog.pg_attribute a
   where a.attrelid = v_rel and a.attnum > 0 and not a.attisdropped and (a.attgenerated <> '' or a.attidentity = 'a');
  v_drop := v_drop || p_omit;
  execute format(
    'with live as (select to_jsonb(x) - $3 as j from %s x where x.%I = $4),
          staged as (select s.row - $3 as j from private.transfer_import_rows s where s.import_id = $1 and s.table_name = $2)
     select (select count(*) from staged where j not in (select j from live)),
            (select count(*) from live where j not in (select j from staged))',
    v_rel, private.transfer_customer_column(p_table))
    into v_missing, v_extra using p_import, p_table, v_drop, p_customer;
  if v_missing > 0 or v_extra > 0 then
    raise exception using errcode = '22023',
      message = format('%s: %s row(s) of the file disagree with what the target computed from the imported rows (%s extra): the file is inconsistent',
                       p_table, v_missing, v_extra);
  end if;
end
$$;

-- transfer_import_commit({ importId, onConflict: 'fail' | 'skip' | 'overwrite',
--   tables: [{ table, rows, derived?, omit? }], dryRun? })
--   → { customerExisted, dryRun, written: { <table>: n }, skipped: { <table>: n } }
-- Makes a staged import live in ONE transaction, tables in the given (dependency) order:
--   * the staged row count of each table must equal `rows` (what the file declares);
--   * the target already has the customer: 'fail' refuses (23505) and changes nothing; 'overwrite'
--     deletes the customer (its rows go by cascade) and writes the file's; 'skip' keeps every
--     existing row and adds the file's rows that collide with none (a merge, target wins);
--   * derived tables are not written: the triggers rebuild them from the rows written, and the
--     result must equal the file's rows (checked unless a skip merged into existing data).
-- dryRun does all of it and rolls it back. Idempotent: committing a committed import returns its
-- result. Any error rolls everything back; the staged rows stay until transfer_import_abort.
create or replace function public.transfer_import_commit(jsonb) returns jsonb
language plpgsql
set "TimeZone" to 'UTC'
as $$
declare
  p alias for $1;
  v_import private.transfer_imports := private.transfer_staging_import((private.arg(p, 'importId', 'string') #>> '{}')::uuid);
  v_policy text := private.arg(p, 'onConflict', 'string') #>> '{}';
  v_tables jsonb := private.arg(p, 'tables', 'array');
  v_dry boolean := coalesce((p ->> 'dryRun')::boolean, false);
  v_spec jsonb;
  v_staged bigint;
  v_written bigint;
  v_existed boolean;
  v_written_counts jsonb := '{}';
  v_skipped_counts jsonb := '{}';
  v_result jsonb;
begin
  if v_import.status = 'committed' then
    return v_import.result;
  end if;
  if v_policy not in ('fail', 'skip', 'overwrite') then
    raise exception using errcode = '22023', message = 'onConflict: must be fail, skip or overwrite';
  end if;
  -- One import of a customer at a time per target (a second waits, then sees the first's rows).
  perform pg_advisory_xact_lock(7212027, hashtext(v_import.customer_id::text));

  for v_spec in select jsonb_array_elements(v_tables) loop
    perform private.transfer_table(v_spec ->> 'table');
    select count(*) into v_staged from private.transfer_import_rows s
     where s.import_id = v_import.id and s.table_name = v_spec ->> 'table';
    if v_staged <> (v_spec ->> 'rows')::bigint then
      raise exception using errcode = '22023',
        message = format('tables: %s rows of %s are staged, the file has %s', v_staged, v_spec ->> 'table', v_spec ->> 'rows');
    end if;
  end loop;

  v_existed := exists (select 1 from public.customers c where c.id = v_import.customer_id);
  if v_existed and v_policy = 'fail' then
    raise exception using errcode = '23505',
      message = format('customer %s already exists on the target; choose --on-conflict skip (merge, keep existing rows) or overwrite (replace them)', v_import.customer_id);
  end if;

  begin
    if v_existed and v_policy = 'overwrite' then
      delete from public.customers c where c.id = v_import.customer_id;
    end if;
    for v_spec in select jsonb_array_elements(v_tables) loop
      continue when coalesce((v_spec ->> 'derived')::boolean, false);
      v_written := private.transfer_write_table(v_import.id, v_spec ->> 'table', v_policy = 'skip');
      v_written_counts := v_written_counts || jsonb_build_object(v_spec ->> 'table', v_written);
      v_skipped_counts := v_skipped_counts || jsonb_build_object(v_spec ->> 'table', (v_spec ->> 'rows')::bigint - v_written);
    end loop;
    for v_spec in select jsonb_array_elements(v_tables) loop
      continue when not coalesce((v_spec ->> 'derived')::boolean, false) or (v_existed and v_policy = 'skip');
      perform private.transfer_verify_derived(v_import.id, v_spec ->> 'table', v_import.customer_id, private.transfer_names(v_spec -> 'omit'));
    end loop;
    v_result := jsonb_build_object('customerExisted', v_existed, 'dryRun', v_dry,
                                   'written', v_written_counts, 'skipped', v_skipped_counts);
    if v_dry then
      raise exception using errcode = 'OMDRY', message = 'dry run: rolled back';
    end if;
  exception when sqlstate 'OMDRY' then
    -- Everything this block wrote is rolled back; v_result survives (variables are not transactional).
    return v_result;
  end;

  update private.transfer_imports i set status = 'committed', result = v_result, touched_at = now() where i.id = v_import.id;
  delete from private.transfer_import_rows s where s.import_id = v_import.id;
  return v_result;
end
$$;

-- transfer_export_page({ customerId, table, key: [column…], after?: [value…], limit? = 1000,
--   omit?: [column…], skip?: { column, values: [text…] } }) → [row]
-- One page of a customer's rows of a tenant table, in keyset order on `key` after the cursor
-- `after` (the key values of the previous page's last row). Rows are the table's columns as jsonb
-- (`to_jsonb`), minus `omit` (local bookkeeping) and generated columns; rows whose `skip.column`
-- is one of `skip.values` are left out (completed queue rows). Timestamps are rendered in UTC
-- (the function's TimeZone), so every backend writes the same text for the same instant.
-- enable_sort is off so that a page is always read in index order (every table's key has an index
-- in that order): without statistics — PGlite has no autovacuum, so a freshly imported table has
-- none — the planner may otherwise fetch every remaining row of the customer and sort it for each
-- page, which makes an export quadratic.
create or replace function public.transfer_export_page(jsonb) returns jsonb
language plpgsql stable
set "TimeZone" to 'UTC'
set enable_sort to off
as $$
declare
  p alias for $1;
  v_table text := private.arg(p, 'table', 'string') #>> '{}';
  v_rel regclass := private.transfer_table(v_table);
  v_customer uuid := (private.arg(p, 'customerId', 'string') #>> '{}')::uuid;
  v_key text[] := private.transfer_names(private.arg(p, 'key', 'array'));
  v_omit text[] := private.transfer_names(p -> 'omit');
  v_after jsonb := nullif(p -> 'after', 'null');
  v_limit integer := coalesce((p ->> 'limit')::integer, 1000);
  v_skip_column text := p -> 'skip' ->> 'column';
  v_skip_values text[] := private.transfer_names(p -> 'skip' -> 'values');
  v_select text;
  v_order text;
  v_where text := '';
  v_rows jsonb;
begin
  if v_limit not between 1 and 10000 then
    raise exception using errcode = '22023', message = 'limit: must be between 1 and 10000';
  end if;
  if cardinality(v_key) = 0 or v_key && v_omit then
    raise exception using errcode = '22023', message = 'key: must name at least one column, none of them omitted';
  end if;
  perform private.transfer_require_columns(v_rel, v_key, 'key');
  perform private.transfer_require_columns(v_rel, v_omit, 'omit');

  select string_agg(format('t.%I', c.name), ', ' order by c.num) into v_select
    from private.transfer_columns(v_rel) c where c.name <> all (v_omit);
  select string_agg(format('%I', k), ', ' order by o) into v_order from unnest(v_key) with ordinality u(k, o);

  if v_after is not null then
    if jsonb_typeof(v_after) <> 'array' or jsonb_array_length(v_after) <> cardinality(v_key) then
      raise exception using errcode = '22023', message = 'after: must be an array with one value per key column';
    end if;
    select format(' and (%s) > (%s)',
                  string_agg(format('t.%I', u.k), ', ' order by u.o),
                  string_agg(format('($4 ->> %s)::%s', u.o - 1, c.type), ', ' order by u.o))
      into v_where
      from unnest(v_key) with ordinality u(k, o) join private.transfer_columns(v_rel) c on c.name = u.k;
  end if;
  if v_skip_column is not null then
    perform private.transfer_require_columns(v_rel, array[v_skip_column], 'skip.column');
    v_where := v_where || format(' and t.%I::text <> all ($3)', v_skip_column);
  end if;

  execute format(
    'select coalesce(jsonb_agg(to_jsonb(r) order by %1$s), ''[]'')
       from (select %2$s from %3$s t where t.%4$I = $1%5$s order by %1$s limit $2) r',
    v_order, v_select, v_rel, private.transfer_customer_column(v_table), v_where)
    into v_rows using v_customer, v_limit, v_skip_values, v_after;
  return v_rows;
end
$$;

drop table private.transfer_import_batches;

select private.restrict_public_functions();
