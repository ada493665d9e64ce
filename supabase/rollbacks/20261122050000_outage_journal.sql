-- Rollback of 20261122050000_outage_journal.sql.
comment on function public.queue_claim(jsonb) is null;
comment on function public.cron_run_begin(jsonb) is null;
comment on function public.cron_run_progress(jsonb) is null;
comment on function public.cron_run_finish(jsonb) is null;
comment on function public.cron_cleanup_message_queue_step(jsonb) is null;
comment on function public.cron_cleanup_scrape_jobs_step(jsonb) is null;
comment on function public.cron_conversation_retention_step(jsonb) is null;
drop function if exists public.customers_mirror(jsonb);
drop function if exists public.customers_list(jsonb);
drop function if exists public.journal_verify(jsonb);
drop function if exists public.journal_status(jsonb);
drop function if exists public.journal_mark(jsonb);
drop function if exists public.journal_pending(jsonb);
drop function if exists public.journal_exec(jsonb);
drop function if exists public.system_journaled_functions(jsonb);
drop function if exists private.journal_hash(text, bigint, text, jsonb, timestamptz);
drop table if exists private.outage_journal;
