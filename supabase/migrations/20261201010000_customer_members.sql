-- Staff membership management from the dashboard (issue 7, Supabase Auth mode): an administrator
-- lists a customer's staff and removes one; adding is customer_members_add (20261122080000). The
-- server resolves e-mail addresses to Auth user ids through the Auth admin API.

-- customer_members_list({ customerId }) → [{ userId, role, createdAt }], oldest first.
create function public.customer_members_list(jsonb) returns jsonb
language sql stable
as $$
  select coalesce(jsonb_agg(jsonb_build_object('userId', m.user_id, 'role', m.role, 'createdAt', m.created_at)
                            order by m.created_at, m.user_id), '[]')
    from public.customer_members m
   where m.customer_id = (private.arg($1, 'customerId', 'string') #>> '{}')::uuid
$$;

-- customer_members_remove({ customerId, userId }) → { removed }: idempotent (a repeat removes
-- nothing and answers removed = false). The member loses access at their next request.
create function public.customer_members_remove(jsonb) returns jsonb
language sql
as $$
  with gone as (
    delete from public.customer_members m
     where m.customer_id = (private.arg($1, 'customerId', 'string') #>> '{}')::uuid
       and m.user_id = (private.arg($1, 'userId', 'string') #>> '{}')::uuid
    returning 1
  )
  select jsonb_build_object('removed', exists (select 1 from gone))
$$;

select private.restrict_public_functions();
