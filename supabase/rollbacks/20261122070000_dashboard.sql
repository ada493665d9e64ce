-- Rollback of 20261122070000_dashboard.sql.
drop function if exists public.crawl_job_timeline(jsonb);
drop function if exists public.dashboard_activity(jsonb);
drop function if exists public.queue_purge_expired(jsonb);
drop function if exists public.queue_list(jsonb);
drop function if exists public.conversation_get(jsonb);
drop function if exists public.conversations_list(jsonb);
drop function if exists public.customers_rotate_key(jsonb);
drop function if exists public.customers_update(jsonb);
