-- Rollback of 20261122010000_scheduled_work.sql.
drop function if exists public.cron_conversation_retention_step(jsonb);
drop function if exists public.cron_cleanup_scrape_jobs_step(jsonb);
drop function if exists public.cron_cleanup_message_queue_step(jsonb);
drop function if exists private.cron_batch_size(jsonb, integer);
drop function if exists public.cron_run_finish(jsonb);
drop function if exists private.cron_run_advance(bigint, bigint);
drop function if exists public.cron_run_begin(jsonb);
drop function if exists private.cleanup_run_json(public.cleanup_runs);
drop index if exists public.conversations_last_activity_idx;
drop index if exists public.cleanup_runs_one_running_idx;
alter table public.cleanup_runs drop column if exists heartbeat_at;

-- The cleanup functions as 20261122000200_messaging.sql and 20261122000300_crawl_audit.sql define them.
create or replace function public.cleanup_expired_message_queue(
  p_batch_size integer default 5000,
  p_max_batches integer default null
) returns integer
language plpgsql
as $$
declare
  v_total integer := 0;
  v_deleted integer;
  v_batches integer := 0;
begin
  if p_batch_size is null or p_batch_size < 1 then
    raise exception using errcode = '22023', message = 'p_batch_size: must be at least 1';
  end if;
  loop
    delete from public.message_queue q
     where q.id in (select e.id
                      from public.message_queue e
                     where e.expires_at < now()
                     order by e.expires_at
                     limit p_batch_size
                       for update skip locked);
    get diagnostics v_deleted = row_count;
    v_total := v_total + v_deleted;
    v_batches := v_batches + 1;
    exit when v_deleted < p_batch_size or v_batches >= coalesce(p_max_batches, v_batches + 1);
  end loop;
  return v_total;
end
$$;

create or replace function public.cleanup_old_scrape_jobs(
  p_days integer,
  p_batch_size integer default 100,
  p_max_batches integer default null
) returns integer
language plpgsql
as $$
declare
  v_total integer := 0;
  v_deleted integer;
  v_batches integer := 0;
begin
  if p_days is null or p_days < 0 then
    raise exception using errcode = '22023', message = 'p_days: must be zero or more';
  end if;
  if p_batch_size is null or p_batch_size < 1 then
    raise exception using errcode = '22023', message = 'p_batch_size: must be at least 1';
  end if;
  loop
    delete from public.scrape_jobs j
     where j.job_id in (select o.job_id
                          from public.scrape_jobs o
                         where o.created_at < now() - make_interval(days => p_days)
                         order by o.created_at
                         limit p_batch_size
                           for update skip locked);
    get diagnostics v_deleted = row_count;
    v_total := v_total + v_deleted;
    v_batches := v_batches + 1;
    exit when v_deleted < p_batch_size or v_batches >= coalesce(p_max_batches, v_batches + 1);
  end loop;
  return v_total;
end
$$;
