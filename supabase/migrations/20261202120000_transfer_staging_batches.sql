-- Transfer at the speed of a bulk copy (issue 16, goal 4): imports stage whole batches, not single
-- rows, and export pages can come as arrays of values instead of an object per row.
--
-- 20261122040000_transfer.sql staged an import one row per staging row: a 100 k-row customer was
-- 100 k inserts into private.transfer_import_rows (a jsonb each, plus its primary-key entry),
-- then 100 k jsonb_populate_record calls at commit and 100 k deletes afterwards. Now each staging
-- call's batch (≤ 1,000 rows) is ONE row holding the batch's jsonb array, written as it came; the
-- commit expands every batch with jsonb_populate_recordset straight into the live table (as a bulk
-- insert of the same rows would), and cleans up a hundred rows instead of a hundred thousand.
--
-- The staging table is UNLOGGED: staged rows are scratch data (re-sent by the importer, never
-- read by the app), so they skip the write-ahead log. A crash of the database truncates it; a
-- commit then finds fewer staged rows than the file declares and refuses, so nothing is committed
-- half (the import is simply run again). The guarantees are those of 20261122040000_transfer.sql:
-- every check of a staging call and of the commit is kept, the commit is one transaction.

create unlogged table private.transfer_import_batches (
  import_id uuid not null references private.transfer_imports (id) on delete cascade,
  table_name text not null,
  -- The file-order position of the batch's first row in its table (idempotency: a retried batch
  -- has the same first_seq and adds nothing).
  first_seq bigint not null,
  row_count integer not null check (row_count > 0),
  -- The rows as the file has them: a jsonb array of objects. Stored uncompressed: it is written
  -- once and read once, within minutes; compressing it cost more than it saved.
  rows jsonb not null,
  primary key (import_id, table_name, first_seq)
);
alter table private.transfer_import_batches alter column rows set storage external;

alter table private.transfer_import_batches enable row level security;
revoke all on table private.transfer_import_batches from public, anon, authenticated;
grant select, insert, update, delete on table private.transfer_import_batches to service_role;

-- transfer_import_stage({ importId, table, firstSeq, rows: [row…] }) → { staged }
-- Stages a batch of a table's rows, file positions firstSeq, firstSeq + 1, … (idempotent on
-- firstSeq: a retried batch adds nothing). Refuses, in one pass over the rows, a row that is not
-- an object, a row of another customer, and a column the target does not have (the target's schema
-- is older than the file's: migrate it first) — writing would silently drop that column's values.
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
  v_customer_column text := private.transfer_customer_column(v_table);
  v_columns text[] := array(select c.name from private.transfer_columns(v_rel) c);
  v_bad jsonb;
  v_count integer;
begin
  if v_import.status <> 'staging' then
    raise exception using errcode = '55000', message = format('importId: import %s is already committed', v_import.id);
  end if;
  if jsonb_array_length(v_rows) = 0 then
    return jsonb_build_object('staged', 0);
  end if;
  -- The first row that is refused, if any (one pass; `row - columns` keeps only unknown keys).
  select r into v_bad
    from jsonb_array_elements(v_rows) r
   where case when jsonb_typeof(r) <> 'object' then true
              when (r ->> v_customer_column) is distinct from v_import.customer_id::text then true
              else (r - v_columns) <> '{}'::jsonb end
   limit 1;
  if found then
    if jsonb_typeof(v_bad) <> 'object' then
      raise exception using errcode = '22023', message = 'rows: each row must be an object';
    end if;
    if (v_bad ->> v_customer_column) is distinct from v_import.customer_id::text then
      raise exception using errcode = '22023',
        message = format('rows: a row of %s belongs to customer %s, not to the imported customer %s',
                         v_table, coalesce(v_bad ->> v_customer_column, 'null'), v_import.customer_id);
    end if;
    raise exception using errcode = '42703',
      message = format('column %s.%s does not exist on the target (or is generated there): apply the migrations to the target first',
                       v_table, (select k from jsonb_object_keys(v_bad - v_columns) k order by k limit 1));
  end if;

  insert into private.transfer_import_batches (import_id, table_name, first_seq, row_count, rows)
  values (v_import.id, v_table, v_first, jsonb_array_length(v_rows), v_rows)
  on conflict do nothing;
  get diagnostics v_count = row_count;
  update private.transfer_imports i set touched_at = now() where i.id = v_import.id;
  return jsonb_build_object('staged', case when v_count > 0 then jsonb_array_length(v_rows) else 0 end);
end
$$;

-- Writes the staged rows of one table into the live table, in file order; returns the rows written.
-- The column list is the keys of the table's first staged row (all rows of a table have the same
-- keys): a column the file lacks (an older source) gets the target's default. With p_skip, rows
-- colliding with an existing row (any unique constraint) are left as they are. Columns filled from
-- a sequence (messages.position) keep the file's numbers and move the sequence past those written,
-- so rows written later on the target still sort after the imported ones.
create or replace function private.transfer_write_table(p_import uuid, p_table text, p_skip boolean) returns bigint
language plpgsql
as $$
declare
  v_rel regclass := private.transfer_table(p_table);
  v_first jsonb;
  v_cols text;
  v_values text;
  v_seq_cols text[];
  v_seqs regclass[];
  v_max bigint[];
  v_count bigint;
begin
  select s.rows -> 0 into v_first from private.transfer_import_batches s
   where s.import_id = p_import and s.table_name = p_table order by s.first_seq limit 1;
  if v_first is null then
    return 0;
  end if;
  select string_agg(format('%I', c.name), ', ' order by c.num), string_agg(format('r.%I', c.name), ', ' order by c.num)
    into v_cols, v_values
    from private.transfer_columns(v_rel) c where v_first ? c.name;
  select coalesce(array_agg(a.attname::text order by a.attnum), '{}'), coalesce(array_agg(dep.refobjid::regclass order by a.attnum), '{}')
    into v_seq_cols, v_seqs
    from pg_catalog.pg_attrdef d
    join pg_catalog.pg_attribute a on a.attrelid = d.adrelid and a.attnum = d.adnum
    join pg_catalog.pg_depend dep on dep.classid = 'pg_catalog.pg_attrdef'::regclass and dep.objid = d.oid
                                 and dep.refclassid = 'pg_catalog.pg_class'::regclass
    join pg_catalog.pg_class s on s.oid = dep.refobjid and s.relkind = 'S'
   where d.adrelid = v_rel and v_first ? a.attname;

  -- The batches in file order (first_seq), each expanded in array order: the rows in file order.
  execute format(
    'with written as (
       insert into %1$s (%2$s)
       select %3$s from (select s.rows from private.transfer_import_batches s
                          where s.import_id = $1 and s.table_name = $2 order by s.first_seq) s
        cross join lateral jsonb_populate_recordset(null::%1$s, s.rows) r%4$s
       returning %5$s)
     select count(*), array[%6$s]::bigint[] from written',
    v_rel, v_cols, v_values,
    case when p_skip then ' on conflict do nothing' else '' end,
    coalesce((select string_agg(format('%I', c), ', ') from unnest(v_seq_cols) c), '1'),
    coalesce((select string_agg(format('max(%I)::bigint', c), ', ') from unnest(v_seq_cols) c), ''))
    into v_count, v_max using p_import, p_table;

  for i in 1 .. cardinality(v_seqs) loop
    if v_max[i] is not null then
      perform private.transfer_advance_sequence(v_seqs[i], v_max[i]);
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
          staged as (select e - $3 as j from private.transfer_import_batches s cross join lateral jsonb_array_elements(s.rows) e
                      where s.import_id = $1 and s.table_name = $2)
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
-- As in 20261122040000_transfer.sql (one transaction; staged counts equal to the file's; conflict
-- policy; derived tables verified, not written; dryRun rolled back; idempotent), over batches.
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
    select coalesce(sum(s.row_count), 0) into v_staged from private.transfer_import_batches s
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
  delete from private.transfer_import_batches s where s.import_id = v_import.id;
  return v_result;
end
$$;

-- transfer_export_page({ customerId, table, key: [column…], after?: [value…], limit? = 1000,
--   omit?: [column…], skip?: { column, values: [text…] }, columnar?: false })
--   → [row], or with columnar: { columns: [name…], rows: [[value…]…] }
-- One page of a customer's rows of a tenant table, in keyset order on `key` after the cursor
-- `after` (the key values of the previous page's last row). Rows are the table's columns as jsonb
-- (`to_jsonb`), minus `omit` (local bookkeeping) and generated columns; rows whose `skip.column`
-- is one of `skip.values` are left out (completed queue rows). Timestamps are rendered in UTC
-- (the function's TimeZone), so every backend writes the same text for the same instant.
-- enable_sort is off so that a page is always read in index order (every table's key has an index
-- in that order): without statistics — PGlite has no autovacuum, so a freshly imported table has
-- none — the planner may otherwise fetch every remaining row of the customer and sort it for each
-- page, which makes an export quadratic.
-- As 20261122040000_transfer.sql defined it, plus `columnar`: each row as an array of its values
-- in the order of `columns` (the same values to_jsonb gives), which PostgreSQL builds in half the
-- time of a jsonb object per row (no keys to sort per row) and which is a third smaller on the
-- wire (jsonb_build_array takes at most 100 arguments: a tenant table of more columns would need
-- objects again). Callers without the flag get objects as before.
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
  v_columnar boolean := coalesce((p ->> 'columnar')::boolean, false);
  v_columns text[];
  v_select text;
  v_values text;
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

  select array_agg(c.name order by c.num), string_agg(format('t.%I', c.name), ', ' order by c.num),
         string_agg(format('r.%I', c.name), ', ' order by c.num)
    into v_columns, v_select, v_values
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
    'select coalesce(jsonb_agg(%6$s order by %1$s), ''[]'')
       from (select %2$s from %3$s t where t.%4$I = $1%5$s order by %1$s limit $2) r',
    v_order, v_select, v_rel, private.transfer_customer_column(v_table), v_where,
    case when v_columnar then format('jsonb_build_array(%s)', v_values) else 'to_jsonb(r)' end)
    into v_rows using v_customer, v_limit, v_skip_values, v_after;
  if v_columnar then
    return jsonb_build_object('columns', to_jsonb(v_columns), 'rows', v_rows);
  end if;
  return v_rows;
end
$$;

-- Staged rows of imports in progress while this migration runs are dropped with the old table:
-- such an import fails at its next staging call or at commit, and is run again.
drop table private.transfer_import_rows;

select private.restrict_public_functions();
