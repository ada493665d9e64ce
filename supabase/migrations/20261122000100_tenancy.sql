-- Tenancy: customers (a business that embeds the widget on its sites) and their staff members.
-- Every tenant table carries customer_id; RLS lets an `authenticated` user reach only the rows of
-- customers they are a member of, and gives `anon` nothing. Server code uses service_role.

-- An allowed origin is scheme://host[:port], lower-case, no path: what a browser sends in `Origin`.
create function private.are_valid_origins(p_origins text[]) returns boolean
language sql immutable
as $$
  select coalesce(bool_and(o ~ '^https?://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$'), true)
    from unnest(p_origins) as o
$$;

create table public.customers (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(btrim(name)) between 1 and 200),
  -- The widget's public key: not a secret (it is in the embed snippet); requests are authorised by
  -- key + Origin allow-list.
  public_key text not null unique
    default ('pk_' || replace(gen_random_uuid()::text, '-', ''))
    check (public_key ~ '^pk_[A-Za-z0-9]{16,64}$'),
  allowed_origins text[] not null default '{}'
    check (cardinality(allowed_origins) <= 100 and private.are_valid_origins(allowed_origins)),
  plan text not null default 'free' check (plan in ('free', 'pro', 'enterprise')),
  retention_days integer not null default 90 check (retention_days between 1 and 3650),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.customers enable row level security;
create trigger customers_touch before update on public.customers
  for each row execute function private.touch_updated_at();

-- Staff of a customer; user_id is the Supabase Auth user (auth.users.id), not a foreign key so the
-- table also exists where there is no auth.users.
create table public.customer_members (
  customer_id uuid not null references public.customers (id) on delete cascade,
  user_id uuid not null,
  role text not null default 'agent' check (role in ('owner', 'admin', 'agent')),
  created_at timestamptz not null default now(),
  primary key (customer_id, user_id)
);
alter table public.customer_members enable row level security;
create index customer_members_user_idx on public.customer_members (user_id);

-- The customers the current JWT's user belongs to. SECURITY DEFINER so policies on
-- customer_members do not recurse; used as `customer_id in (select private.member_customer_ids())`,
-- which Postgres evaluates once per statement, not once per row.
create function private.member_customer_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.customer_id from public.customer_members m where m.user_id = auth.uid()
$$;
revoke all on function private.member_customer_ids() from public;
grant execute on function private.member_customer_ids() to authenticated, service_role;

create policy customers_member_select on public.customers for select to authenticated
  using (id in (select private.member_customer_ids()));
create policy customers_member_update on public.customers for update to authenticated
  using (id in (select private.member_customer_ids()))
  with check (id in (select private.member_customer_ids()));
create policy customer_members_member_select on public.customer_members for select to authenticated
  using (customer_id in (select private.member_customer_ids()));

revoke all on table public.customers, public.customer_members from public, anon, authenticated;
grant select on table public.customers, public.customer_members to authenticated;
-- Staff may edit their customer's settings, never its plan or widget key.
grant update (name, allowed_origins, retention_days) on table public.customers to authenticated;
grant select, insert, update, delete on table public.customers, public.customer_members to service_role;

-- The public (camelCase) JSON shape of a customer, shared by every RPC that returns one.
create function private.customer_json(c public.customers) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', c.id,
    'name', c.name,
    'publicKey', c.public_key,
    'allowedOrigins', to_jsonb(c.allowed_origins),
    'plan', c.plan,
    'retentionDays', c.retention_days,
    'createdAt', c.created_at,
    'updatedAt', c.updated_at
  )
$$;

-- customers_create({ id?, name, publicKey?, allowedOrigins?, plan?, retentionDays? })
--   → { customer, created }. Idempotent on id: a repeat returns the stored customer with
--   created = false and changes nothing.
create function public.customers_create(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_id uuid := coalesce((p ->> 'id')::uuid, gen_random_uuid());
  v_row public.customers;
begin
  if jsonb_typeof(p -> 'name') is distinct from 'string' then
    raise exception using errcode = '22023', message = 'name: required string';
  end if;
  if p ? 'allowedOrigins' and jsonb_typeof(p -> 'allowedOrigins') <> 'array' then
    raise exception using errcode = '22023', message = 'allowedOrigins: must be an array of origins';
  end if;

  insert into public.customers as c (id, name, public_key, allowed_origins, plan, retention_days)
  values (
    v_id,
    btrim(p ->> 'name'),
    coalesce(p ->> 'publicKey', 'pk_' || replace(gen_random_uuid()::text, '-', '')),
    coalesce(array(select jsonb_array_elements_text(p -> 'allowedOrigins')), '{}'),
    coalesce(p ->> 'plan', 'free'),
    coalesce((p ->> 'retentionDays')::integer, 90)
  )
  on conflict (id) do nothing
  returning c.* into v_row;

  if found then
    return jsonb_build_object('customer', private.customer_json(v_row), 'created', true);
  end if;
  select c.* into strict v_row from public.customers c where c.id = v_id;
  return jsonb_build_object('customer', private.customer_json(v_row), 'created', false);
end
$$;

-- customers_get({ id }) → customer | null
create function public.customers_get(jsonb) returns jsonb
language sql stable
as $$
  select private.customer_json(c) from public.customers c where c.id = ($1 ->> 'id')::uuid
$$;

-- customers_get_by_public_key({ publicKey }) → customer | null
create function public.customers_get_by_public_key(jsonb) returns jsonb
language sql stable
as $$
  select private.customer_json(c) from public.customers c where c.public_key = $1 ->> 'publicKey'
$$;

select private.restrict_public_functions();
