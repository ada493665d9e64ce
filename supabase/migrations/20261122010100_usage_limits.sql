-- Usage metering (seed 000): per-plan monthly limits and the atomic check-and-increment every
-- metered operation goes through. Months are calendar months in UTC, computed here from now()
-- (or an explicit `at`, for tests and backfills): a new month is a new usage row, so counters start
-- from zero without any reset job.

-- The monthly allowance of each plan; null means unlimited. The one place limits are defined
-- (README "Usage and plans" gives the reasons for the numbers); changing a limit is an UPDATE,
-- effective on the next increment. Plan names are those customers.plan allows.
create table public.plan_limits (
  plan text primary key check (plan in ('free', 'pro', 'enterprise')),
  messages integer check (messages >= 0),
  crawls integer check (crawls >= 0),
  exports integer check (exports >= 0),
  updated_at timestamptz not null default now()
);
alter table public.plan_limits enable row level security;
-- Plans are not tenant data: any signed-in user may read them, only service_role changes them.
create policy plan_limits_authenticated_select on public.plan_limits for select to authenticated using (true);
revoke all on table public.plan_limits from public, anon, authenticated;
grant select on table public.plan_limits to authenticated;
grant select, insert, update, delete on table public.plan_limits to service_role;
create trigger plan_limits_touch before update on public.plan_limits
  for each row execute function private.touch_updated_at();

insert into public.plan_limits (plan, messages, crawls, exports) values
  ('free', 1000, 10, 10),
  ('pro', 25000, 300, 300),
  ('enterprise', null, null, null);

-- The usage month ('YYYY-MM') an instant belongs to, and the instant that month ends (the first day
-- of the next month, 00:00 UTC), whatever the session's TimeZone.
create function private.usage_month(p_at timestamptz) returns text
language sql stable
as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM')
$$;

create function private.usage_resets_at(p_at timestamptz) returns timestamptz
language sql stable
as $$
  select (date_trunc('month', p_at at time zone 'UTC') + interval '1 month') at time zone 'UTC'
$$;

-- An instant as plain ISO 8601 in UTC ('2026-12-01T00:00:00Z'), as the API reports resets.
create function private.utc_iso(p_at timestamptz) returns text
language sql immutable
as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- The counter column of a usage type.
create function private.usage_pick(p_type text, p_messages integer, p_crawls integer, p_exports integer)
returns integer
language sql immutable
as $$
  select case p_type when 'message' then p_messages when 'crawl' then p_crawls when 'export' then p_exports end
$$;

-- { used, limit, remaining } of one counter; limit and remaining are null when unlimited.
create function private.usage_counter_json(p_used integer, p_limit integer) returns jsonb
language sql immutable
as $$
  select jsonb_build_object(
    'used', p_used,
    'limit', p_limit,
    'remaining', case when p_limit is null then null else greatest(p_limit - p_used, 0) end
  )
$$;

-- private.usage_consume(customer, type, amount, at) → { allowed, type, used, limit, remaining, plan,
-- monthYear, resetsAt }. Adds `amount` to the customer's counter of `type` ('message', 'crawl',
-- 'export') for the month of `at` unless that would exceed the plan's limit; a refusal changes
-- nothing and is a value (allowed = false), not an error. Atomic under concurrency: the limit is
-- checked by the upsert itself, on the row version it locks, so concurrent callers can neither
-- lose an increment nor overshoot the limit together. SQL functions that meter an operation (the
-- message queue, the crawler) call this inside their own transaction, so the operation and its
-- usage commit or roll back together.
create function private.usage_consume(
  p_customer_id uuid, p_type text, p_amount integer, p_at timestamptz,
  -- false: count without refusing (a write accepted elsewhere already, replayed after an outage)
  p_enforce boolean default true
)
returns jsonb
language plpgsql
as $$
declare
  v_month text := private.usage_month(p_at);
  v_plan text;
  v_limit integer;
  v_used integer;
  v_allowed boolean := false;
begin
  if p_type is null or p_type not in ('message', 'crawl', 'export') then
    raise exception using errcode = '22023', message = 'type: must be message, crawl or export';
  end if;
  if p_amount is null or p_amount < 1 then
    raise exception using errcode = '22023', message = 'amount: must be at least 1';
  end if;
  select c.plan into v_plan from public.customers c where c.id = p_customer_id;
  if not found then
    raise exception using errcode = 'P0002', message = format('customer %s does not exist', p_customer_id);
  end if;
  -- Fail closed: a plan without a limits row is a configuration error, never "unlimited".
  select private.usage_pick(p_type, l.messages, l.crawls, l.exports) into v_limit
    from public.plan_limits l where l.plan = v_plan;
  if not found then
    raise exception using errcode = '55000', message = format('plan %s has no row in plan_limits', v_plan);
  end if;

  if v_limit is null or not p_enforce or p_amount <= v_limit then
    insert into public.usage as u (customer_id, month_year, messages, crawls, exports)
    values (
      p_customer_id,
      v_month,
      case when p_type = 'message' then p_amount else 0 end,
      case when p_type = 'crawl' then p_amount else 0 end,
      case when p_type = 'export' then p_amount else 0 end
    )
    on conflict (customer_id, month_year) do update
       set messages = u.messages + excluded.messages,
           crawls = u.crawls + excluded.crawls,
           exports = u.exports + excluded.exports,
           updated_at = now()
     where v_limit is null or not p_enforce
        or private.usage_pick(p_type, u.messages, u.crawls, u.exports) + p_amount <= v_limit
    returning private.usage_pick(p_type, u.messages, u.crawls, u.exports) into v_used;
    v_allowed := found;
  end if;
  if not v_allowed then
    select private.usage_pick(p_type, u.messages, u.crawls, u.exports) into v_used
      from public.usage u where u.customer_id = p_customer_id and u.month_year = v_month;
  end if;
  v_used := coalesce(v_used, 0);
  return jsonb_build_object(
    'allowed', v_allowed,
    'type', p_type,
    'plan', v_plan,
    'monthYear', v_month,
    'resetsAt', private.utc_iso(private.usage_resets_at(p_at))
  ) || private.usage_counter_json(v_used, v_limit)
    || case when v_allowed then '{}'::jsonb else jsonb_build_object('message', format(
         'monthly %s limit reached: %s of %s used on the %s plan%s; resets %s',
         p_type, v_used, v_limit, v_plan,
         case when p_amount > 1 then format(' (%s more requested)', p_amount) else '' end,
         private.utc_iso(private.usage_resets_at(p_at)))) end;
end
$$;

-- private.usage_require(customer, type, amount, at, enforce): usage_consume for SQL operations that
-- must not happen over the limit. A refusal raises SQLSTATE OMUSE (message: the limit and when it
-- resets; detail: resetsAt), so the calling operation rolls back with it and nothing is
-- half-applied. enforce = false counts without refusing: for a write the embedded fallback already
-- accepted during an outage, replayed into the primary (refusing it then would lose it).
create function private.usage_require(
  p_customer_id uuid, p_type text, p_amount integer, p_at timestamptz, p_enforce boolean default true
)
returns void
language plpgsql
as $$
declare
  v_result jsonb := private.usage_consume(p_customer_id, p_type, p_amount, p_at, p_enforce);
begin
  if not (v_result ->> 'allowed')::boolean then
    raise exception using errcode = 'OMUSE', message = v_result ->> 'message', detail = v_result ->> 'resetsAt';
  end if;
end
$$;
revoke all on function private.usage_require(uuid, text, integer, timestamptz, boolean) from public;
grant execute on function private.usage_require(uuid, text, integer, timestamptz, boolean) to service_role;
revoke all on function private.usage_consume(uuid, text, integer, timestamptz, boolean) from public;
grant execute on function private.usage_consume(uuid, text, integer, timestamptz, boolean) to service_role;

-- usage_increment({ customerId, type, amount? = 1, at? = now() }) → the result of usage_consume.
create function public.usage_increment(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
begin
  return private.usage_consume(
    (p ->> 'customerId')::uuid,
    p ->> 'type',
    coalesce((p ->> 'amount')::integer, 1),
    coalesce((p ->> 'at')::timestamptz, now())
  );
end
$$;

-- usage_get({ customerId, at? = now() }) → null when the customer does not exist, else
-- { customerId, plan, monthYear, resetsAt, messages, crawls, exports }, each counter being
-- { used, limit, remaining } (limit and remaining null when unlimited). A month without usage
-- reads as zeros.
create function public.usage_get(jsonb) returns jsonb
language sql stable
as $$
  with args as (
    select ($1 ->> 'customerId')::uuid as customer_id, coalesce(($1 ->> 'at')::timestamptz, now()) as at
  ),
  counts as (
    select c.id, c.plan, a.at,
           coalesce(u.messages, 0) as messages, coalesce(u.crawls, 0) as crawls, coalesce(u.exports, 0) as exports,
           l.messages as messages_limit, l.crawls as crawls_limit, l.exports as exports_limit
      from args a
      join public.customers c on c.id = a.customer_id
      left join public.plan_limits l on l.plan = c.plan
      left join public.usage u on u.customer_id = c.id and u.month_year = private.usage_month(a.at)
  )
  select jsonb_build_object(
    'customerId', k.id,
    'plan', k.plan,
    'monthYear', private.usage_month(k.at),
    'resetsAt', private.utc_iso(private.usage_resets_at(k.at)),
    'messages', private.usage_counter_json(k.messages, k.messages_limit),
    'crawls', private.usage_counter_json(k.crawls, k.crawls_limit),
    'exports', private.usage_counter_json(k.exports, k.exports_limit)
  )
  from counts k
$$;

select private.restrict_public_functions();
