-- Rollback of 20261201000000_member_reads.sql: staff members' reads go back to service-role only.
revoke select on table public.cleanup_runs from authenticated;
drop policy if exists cleanup_runs_authenticated_select on public.cleanup_runs;

drop function private.restrict_public_functions();
alter function private.restrict_rpcs_to_service_role() rename to restrict_public_functions;
select private.restrict_public_functions();
drop table private.member_rpcs;
