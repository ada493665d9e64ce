-- Rollback of 20261201000000_member_access.sql: staff members' reads go back to service-role only;
-- every member may change their customer's settings again.
alter policy customers_member_update on public.customers
  using (id in (select private.member_customer_ids()))
  with check (id in (select private.member_customer_ids()));
drop function private.managed_customer_ids();
revoke select on table public.cleanup_runs from authenticated;
drop policy if exists cleanup_runs_authenticated_select on public.cleanup_runs;

drop function private.restrict_public_functions();
alter function private.restrict_rpcs_to_service_role() rename to restrict_public_functions;
select private.restrict_public_functions();
drop table private.member_rpcs;
