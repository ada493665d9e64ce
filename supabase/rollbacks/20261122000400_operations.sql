-- Rollback of 20261122000400_operations.sql.
drop function if exists public.system_health(jsonb);
drop function if exists public.system_echo(jsonb);
drop function if exists public.system_ping(jsonb);
drop table if exists public.cleanup_runs;
drop table if exists public.usage;
