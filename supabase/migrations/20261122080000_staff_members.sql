-- Staff accounts (issue 7, Supabase Auth mode): which customers a signed-in Supabase user may see
-- in the dashboard. The table customer_members and its RLS policies come from the tenancy
-- migration; these RPCs let the server (service role) read and grant memberships.

-- staff_memberships({ userId }) → [{ customerId, customerName, role }]: the user's customers, by name.
create function public.staff_memberships(jsonb) returns jsonb
language sql stable
as $$
  select coalesce(jsonb_agg(jsonb_build_object('customerId', m.customer_id, 'customerName', c.name, 'role', m.role)
                            order by c.name, c.id), '[]')
    from public.customer_members m
    join public.customers c on c.id = m.customer_id
   where m.user_id = (private.arg($1, 'userId', 'string') #>> '{}')::uuid
$$;

-- customer_members_add({ customerId, userId, role? = 'agent' }) → { customerId, userId, role, created }
-- Idempotent: a repeat leaves the membership as it is (created = false); P0002 for an unknown customer.
create function public.customer_members_add(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_customer uuid := (private.arg(p, 'customerId', 'string') #>> '{}')::uuid;
  v_user uuid := (private.arg(p, 'userId', 'string') #>> '{}')::uuid;
  v_role text := coalesce(p ->> 'role', 'agent');
  v_row public.customer_members;
begin
  if not exists (select 1 from public.customers c where c.id = v_customer) then
    raise exception using errcode = 'P0002', message = format('customer %s does not exist', v_customer);
  end if;
  insert into public.customer_members as m (customer_id, user_id, role)
  values (v_customer, v_user, v_role)
  on conflict (customer_id, user_id) do nothing
  returning m.* into v_row;
  if found then
    return jsonb_build_object('customerId', v_row.customer_id, 'userId', v_row.user_id, 'role', v_row.role, 'created', true);
  end if;
  select m.* into strict v_row from public.customer_members m where m.customer_id = v_customer and m.user_id = v_user;
  return jsonb_build_object('customerId', v_row.customer_id, 'userId', v_row.user_id, 'role', v_row.role, 'created', false);
end
$$;

select private.restrict_public_functions();
