-- Rollback of 20261202080000_delete_in_batches.sql: the three functions as 20261122000200_messaging.sql,
-- 20261122000300_crawl_audit.sql and 20261122010000_scheduled_work.sql defined them (each with its own
-- batched delete), then the helper goes.

-- cleanup_expired_message_queue(batch_size, max_batches) → rows deleted.
-- Deletes completed rows past expires_at in batches of p_batch_size (rows locked by a concurrent
-- worker are skipped, never waited for), until none are left or p_max_batches batches ran.
-- Called with no arguments it empties the whole backlog; a scheduler that wants to commit between
-- batches calls it with p_max_batches => 1 until it returns less than p_batch_size.
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
    -- The locked batch is deleted by ctid: `where id in (select … limit n for update skip locked)`
    -- was planned as a hash semi-join over a scan of the WHOLE table for every batch (n random
    -- primary-key probes priced above one scan), so a 1 M-row backlog in 5,000-row batches read
    -- the table 200 times (15 s); by ctid it is a TID scan of exactly those rows (≈ 10 ms per
    -- 5,000). The ctids cannot move in between: the same statement holds the row locks.
    delete from public.message_queue q
     where q.ctid = any(array(select e.ctid
                                from public.message_queue e
                               where e.expires_at < now()
                               order by e.expires_at
                               limit p_batch_size
                                 for update skip locked));
    get diagnostics v_deleted = row_count;
    v_total := v_total + v_deleted;
    v_batches := v_batches + 1;
    exit when v_deleted < p_batch_size or v_batches >= coalesce(p_max_batches, v_batches + 1);
  end loop;
  return v_total;
end
$$;

-- cleanup_old_scrape_jobs(days, batch_size, max_batches) → jobs deleted.
-- Deletes jobs created more than p_days days ago, with their results and stats (by cascade), in
-- batches of p_batch_size jobs; jobs locked by a running worker are skipped.
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
    -- By ctid, for the reason given in cleanup_expired_message_queue.
    delete from public.scrape_jobs j
     where j.ctid = any(array(select o.ctid
                                from public.scrape_jobs o
                               where o.created_at < now() - make_interval(days => p_days)
                               order by o.created_at
                               limit p_batch_size
                                 for update skip locked));
    get diagnostics v_deleted = row_count;
    v_total := v_total + v_deleted;
    v_batches := v_batches + 1;
    exit when v_deleted < p_batch_size or v_batches >= coalesce(p_max_batches, v_batches + 1);
  end loop;
  return v_total;
end
$$;

-- cron_conversation_retention_step({ runId, cursor?, batchSize? = 200 }) → { deleted, done, cursor }
-- Deletes up to batchSize conversations (their messages go by cascade, their session's dead-lettered
-- queue rows with them) whose last activity is
-- older than their customer's retention_days, visiting customers in id order from `cursor` (the
-- customer the previous step stopped in) so each step starts where the last one ended instead of
-- probing every customer again. Conversations locked by a writer are skipped, never waited for.
create or replace function public.cron_conversation_retention_step(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_batch integer := private.cron_batch_size(p, 200);
  v_cursor uuid := (p ->> 'cursor')::uuid;
  v_remaining integer := v_batch;
  v_total integer := 0;
  v_deleted integer;
  v_customer record;
begin
  for v_customer in
    select c.id, c.retention_days from public.customers c
     where v_cursor is null or c.id >= v_cursor
     order by c.id
  loop
    -- By ctid, like the cleanup functions (see cleanup_expired_message_queue), for the same reason.
    -- The session's dead letters (visitor text that was never delivered) go too: retention means
    -- the visitor's words are gone. Live queued messages stay; delivery opens a new conversation.
    with deleted as (
      delete from public.conversations d
       where d.ctid = any(array(select o.ctid
                                  from public.conversations o
                                 where o.customer_id = v_customer.id
                                   and greatest(o.updated_at, o.last_message_at)
                                       < now() - make_interval(days => v_customer.retention_days)
                                 limit v_remaining
                                   for update skip locked))
      returning d.customer_id, d.session_id
    ), dead_letters as (
      delete from public.message_queue q
       using deleted
       where q.customer_id = deleted.customer_id and q.session_id = deleted.session_id and q.status = 'failed'
    )
    select count(*) into v_deleted from deleted;
    v_total := v_total + v_deleted;
    v_remaining := v_remaining - v_deleted;
    if v_remaining = 0 then
      -- This customer may have more: the next step starts with it again.
      perform private.cron_run_advance((p ->> 'runId')::bigint, v_total);
      return jsonb_build_object('deleted', v_total, 'done', false, 'cursor', v_customer.id);
    end if;
  end loop;
  perform private.cron_run_advance((p ->> 'runId')::bigint, v_total);
  return jsonb_build_object('deleted', v_total, 'done', true, 'cursor', null);
end
$$;

drop function if exists private.delete_in_batches(regclass, text, text, integer, integer, text);
