-- Staff members' access under Row Level Security (issue 7, Supabase Auth mode). The dashboard reads a
-- staff member's data through the Data API with the member's own JWT (role `authenticated`), so the
-- member policies of the tenancy, messaging, crawl-audit and operations migrations filter every row
-- to the customers in customer_members — a second layer under the server's own checks. Writes stay
-- with the service role (they meter usage, journal during outages and touch service-only tables);
-- the server checks membership (and, for a customer's settings and staff, the role) before each one.

-- The RPCs `authenticated` may execute. Each must stay SECURITY INVOKER (the default), so RLS
-- applies inside it; schema.test.ts checks that.
create table private.member_rpcs (
  name text primary key check (name ~ '^[a-z][a-z0-9_]*$')
);
comment on table private.member_rpcs is 'RPCs a staff member may call with their own JWT; rows filtered by RLS';
revoke all on table private.member_rpcs from public, anon, authenticated;
insert into private.member_rpcs (name) values
  ('customers_list'), ('customers_get'), ('usage_get'),
  ('conversations_list'), ('conversation_get'),
  ('queue_list'), ('queue_stats'),
  ('dashboard_activity'),
  ('crawl_job_list'), ('crawl_job_get'), ('crawl_job_results'), ('crawl_job_timeline');

-- restrict_public_functions(), which every migration calls after creating functions, keeps doing what
-- the bootstrap defined (every public function executable by service_role only: now under the name
-- restrict_rpcs_to_service_role) and then lets `authenticated` execute the member RPCs.
alter function private.restrict_public_functions() rename to restrict_rpcs_to_service_role;
create function private.restrict_public_functions() returns void
language plpgsql
as $$
declare
  v_fn regprocedure;
begin
  perform private.restrict_rpcs_to_service_role();
  for v_fn in
    select p.oid::regprocedure
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      join private.member_rpcs r on r.name = p.proname
     where n.nspname = 'public'
  loop
    execute format('grant execute on routine %s to authenticated', v_fn);
  end loop;
end
$$;
revoke all on function private.restrict_public_functions() from public;

-- The overview's "last scheduled runs" (dashboard_activity): the whole system's housekeeping, the
-- same on every staff member's overview; read-only.
create policy cleanup_runs_authenticated_select on public.cleanup_runs for select to authenticated using (true);
grant select on table public.cleanup_runs to authenticated;

-- A customer's settings are changed by its owners and admins, not by its agents — as the server
-- checks (lib/auth/staff.ts requireManager); before, any member could change them directly.
create function private.managed_customer_ids() returns setof uuid
language sql stable security definer set search_path = ''
as $$
  select m.customer_id from public.customer_members m where m.user_id = auth.uid() and m.role in ('owner', 'admin')
$$;
revoke all on function private.managed_customer_ids() from public;
grant execute on function private.managed_customer_ids() to authenticated, service_role;
alter policy customers_member_update on public.customers
  using (id in (select private.managed_customer_ids()))
  with check (id in (select private.managed_customer_ids()));

select private.restrict_public_functions();
