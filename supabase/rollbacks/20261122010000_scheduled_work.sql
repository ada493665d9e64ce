-- Rollback of 20261122010000_scheduled_work.sql.
drop function if exists public.cron_conversation_retention_step(jsonb);
drop function if exists public.cron_cleanup_scrape_jobs_step(jsonb);
drop function if exists public.cron_cleanup_message_queue_step(jsonb);
drop function if exists private.cron_batch_size(jsonb, integer);
drop function if exists public.cron_run_finish(jsonb);
drop function if exists public.cron_run_progress(jsonb);
drop function if exists private.cron_run_advance(bigint, bigint);
drop function if exists public.cron_run_begin(jsonb);
drop function if exists private.cleanup_run_json(public.cleanup_runs);
drop index if exists public.conversations_last_activity_idx;
drop index if exists public.cleanup_runs_one_running_idx;
alter table public.cleanup_runs drop column if exists heartbeat_at;
