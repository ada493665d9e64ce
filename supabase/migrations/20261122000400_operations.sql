-- Operations: per-customer monthly usage (seed 000), the ledger of scheduled cleanup runs, and the
-- diagnostic RPCs used by health checks and benchmarks.

-- Usage counters per customer and calendar month ('YYYY-MM', UTC). A new month is a new row, so
-- counters start from zero without any reset job.
create table public.usage (
  customer_id uuid not null references public.customers (id) on delete cascade,
  month_year text not null check (month_year ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  messages integer not null default 0 check (messages >= 0),
  crawls integer not null default 0 check (crawls >= 0),
  exports integer not null default 0 check (exports >= 0),
  updated_at timestamptz not null default now(),
  primary key (customer_id, month_year)
);
alter table public.usage enable row level security;
create policy usage_member_select on public.usage for select to authenticated
  using (customer_id in (select private.member_customer_ids()));
revoke all on table public.usage from public, anon, authenticated;
grant select on table public.usage to authenticated;
grant select, insert, update, delete on table public.usage to service_role;

-- One row per run of a scheduled task. (task, scheduled_for) is the run ledger: a second delivery
-- of the same schedule slot finds the row and does nothing. Not tenant data: no policy, so only
-- service_role sees it.
create table public.cleanup_runs (
  id bigint generated always as identity primary key,
  task text not null check (task ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
  scheduled_for timestamptz not null,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed', 'skipped')),
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  rows_affected bigint check (rows_affected >= 0),
  error text,
  unique (task, scheduled_for)
);
alter table public.cleanup_runs enable row level security;
create index cleanup_runs_recent_idx on public.cleanup_runs (started_at desc);
revoke all on table public.cleanup_runs from public, anon, authenticated;
grant select, insert, update, delete on table public.cleanup_runs to service_role;

-- system_ping({}) → { ok: true }: the cheapest round trip through the Data API.
create function public.system_ping(jsonb) returns jsonb
language sql immutable
as $$
  select '{"ok": true}'::jsonb
$$;

-- system_echo(value) → value: exercises argument and result encoding end to end (contract tests,
-- port-overhead benchmark).
create function public.system_echo(jsonb) returns jsonb
language sql immutable
as $$
  select $1
$$;

-- system_health({}) → { ok, serverVersion, database, now, schemaVersion }.
-- SECURITY DEFINER to read the migration history, which service_role cannot see on Supabase.
create function public.system_health(jsonb) returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_version text;
begin
  if to_regclass('supabase_migrations.schema_migrations') is not null then
    execute 'select max(version) from supabase_migrations.schema_migrations' into v_version;
  end if;
  return jsonb_build_object(
    'ok', true,
    'serverVersion', current_setting('server_version'),
    'database', current_database(),
    'now', now(),
    'schemaVersion', v_version
  );
end
$$;

select private.restrict_public_functions();
