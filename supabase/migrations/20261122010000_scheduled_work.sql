-- Scheduled work (seed 001 cleanup and retention): the run protocol of cleanup_runs and the
-- batch steps of each cleanup task, callable through the Data API.
--
-- A run is: cron_run_begin (claim the task's schedule slot) → one step call per batch, each its own
-- transaction → cron_run_finish. Committing between batches keeps every lock short, so a backlog of
-- a million expired rows never stalls concurrent writers, and a run killed between two steps
-- leaves only whole batches deleted and counted.
--
-- Why not hold an advisory lock for the whole run: the Data API (and transaction poolers) give no
-- session that outlives one call, and a session lock taken on a pooled connection would leak to
-- whoever uses the connection next. So the transaction-scoped advisory lock serialises only the
-- claim, and the claimed ledger row is the run's lease: at most one 'running' row per task
-- (a partial unique index), kept alive by every step's heartbeat, and taken over when a killed
-- run's heartbeat is older than the lease.

alter table public.cleanup_runs add column heartbeat_at timestamptz;
create unique index cleanup_runs_one_running_idx on public.cleanup_runs (task) where status = 'running';

-- Retention finds a customer's conversations by last activity (the later of the last message and
-- the last update) without scanning the others.
create index conversations_last_activity_idx
  on public.conversations (customer_id, (greatest(updated_at, last_message_at)));

-- The public (camelCase) JSON shape of a run, shared by the run RPCs.
create function private.cleanup_run_json(r public.cleanup_runs) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', r.id,
    'task', r.task,
    'scheduledFor', r.scheduled_for,
    'status', r.status,
    'startedAt', r.started_at,
    'finishedAt', r.finished_at,
    'rowsAffected', coalesce(r.rows_affected, 0),
    'error', r.error
  )
$$;

-- cron_run_begin({ task, scheduledFor, leaseSeconds? }) → { started, reason?, run }
--   started = true:  this caller owns the new 'running' run of (task, scheduledFor).
--   reason 'duplicate': the slot was already claimed (a second delivery of the same schedule);
--                       run is that claim, unchanged.
--   reason 'overlap':   another slot's run of the task is still running; the slot is recorded as
--                       'skipped' so a later delivery of it is a duplicate.
-- A 'running' run whose heartbeat is older than leaseSeconds (default 120) is closed as failed
-- ('abandoned') first: its process died, and the task must not stay blocked.
create function public.cron_run_begin(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_task text := p ->> 'task';
  v_slot timestamptz := (p ->> 'scheduledFor')::timestamptz;
  v_lease interval := make_interval(secs => coalesce((p ->> 'leaseSeconds')::integer, 120));
  v_live public.cleanup_runs;
  v_run public.cleanup_runs;
begin
  if v_task is null or v_slot is null then
    raise exception using errcode = '22023', message = 'task and scheduledFor: required';
  end if;
  if v_lease < interval '1 second' then
    raise exception using errcode = '22023', message = 'leaseSeconds: must be at least 1';
  end if;

  -- Serialise claims of this task until this transaction ends (the key space (int4, int4) is
  -- separate from the migration runner's single bigint key).
  perform pg_advisory_xact_lock(7212026, hashtext(v_task));

  update public.cleanup_runs r
     set status = 'failed',
         finished_at = now(),
         error = format('abandoned: no progress since %s (lease %s)', r.heartbeat_at, v_lease)
   where r.task = v_task and r.status = 'running' and r.heartbeat_at < now() - v_lease;

  select r.* into v_live from public.cleanup_runs r where r.task = v_task and r.status = 'running';

  insert into public.cleanup_runs as r (task, scheduled_for, status, heartbeat_at, rows_affected, finished_at, error)
  values (
    v_task,
    v_slot,
    case when v_live.id is null then 'running' else 'skipped' end,
    now(),
    0,
    case when v_live.id is null then null else now() end,
    case when v_live.id is null then null
         else format('skipped: run %s (scheduled for %s) was still running', v_live.id, v_live.scheduled_for) end
  )
  on conflict (task, scheduled_for) do nothing
  returning r.* into v_run;

  if v_run.id is null then
    select r.* into strict v_run from public.cleanup_runs r where r.task = v_task and r.scheduled_for = v_slot;
    return jsonb_build_object('started', false, 'reason', 'duplicate', 'run', private.cleanup_run_json(v_run));
  end if;
  if v_run.status = 'skipped' then
    return jsonb_build_object('started', false, 'reason', 'overlap', 'run', private.cleanup_run_json(v_run));
  end if;
  return jsonb_build_object('started', true, 'run', private.cleanup_run_json(v_run));
end
$$;

-- Adds a step's rows to its run and renews the run's lease, in the step's own transaction, so the
-- ledger's count is exactly what was committed. Raises 55000 when the run is no longer running
-- (finished, or taken over as abandoned): the step's work is then rolled back with it, so two
-- runs of one task never both delete.
create function private.cron_run_advance(p_run_id bigint, p_rows bigint) returns void
language plpgsql
as $$
begin
  update public.cleanup_runs r
     set rows_affected = coalesce(r.rows_affected, 0) + p_rows,
         heartbeat_at = now()
   where r.id = p_run_id and r.status = 'running';
  if not found then
    raise exception using errcode = '55000',
      message = format('cron run %s is not running (finished or taken over); step abandoned', p_run_id);
  end if;
end
$$;
revoke all on function private.cron_run_advance(bigint, bigint) from public;
grant execute on function private.cron_run_advance(bigint, bigint) to service_role;

-- cron_run_progress({ runId, rows }) → { rows }: for steps done in TypeScript (the queue processor),
-- counts their rows and renews the lease, like the SQL steps do with private.cron_run_advance.
create function public.cron_run_progress(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_rows bigint := coalesce((p ->> 'rows')::bigint, 0);
begin
  if v_rows < 0 then
    raise exception using errcode = '22023', message = 'rows: must be zero or more';
  end if;
  perform private.cron_run_advance((p ->> 'runId')::bigint, v_rows);
  return jsonb_build_object('rows', v_rows);
end
$$;

-- cron_run_finish({ runId, error? }) → run. Closes a running run as 'succeeded', or 'failed' with
-- the error. A run that is no longer running (taken over meanwhile) is returned as it stands.
create function public.cron_run_finish(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_run public.cleanup_runs;
begin
  update public.cleanup_runs r
     set status = case when p ->> 'error' is null then 'succeeded' else 'failed' end,
         finished_at = now(),
         heartbeat_at = now(),
         error = left(p ->> 'error', 2000)
   where r.id = (p ->> 'runId')::bigint and r.status = 'running'
  returning r.* into v_run;
  if v_run.id is null then
    select r.* into v_run from public.cleanup_runs r where r.id = (p ->> 'runId')::bigint;
    if v_run.id is null then
      raise exception using errcode = 'P0002', message = format('cron run %s does not exist', p ->> 'runId');
    end if;
  end if;
  return private.cleanup_run_json(v_run);
end
$$;

-- The batch size of a step, validated the same way by every step.
create function private.cron_batch_size(p jsonb, p_default integer) returns integer
language plpgsql immutable
as $$
declare
  v_size integer := coalesce((p ->> 'batchSize')::integer, p_default);
begin
  if v_size < 1 or v_size > 100000 then
    raise exception using errcode = '22023', message = 'batchSize: must be between 1 and 100000';
  end if;
  return v_size;
end
$$;

-- cron_cleanup_message_queue_step({ runId, batchSize? = 5000 }) → { deleted, done }
-- One batch of cleanup_expired_message_queue(): completed messages past their 24 h expiry.
create function public.cron_cleanup_message_queue_step(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_batch integer := private.cron_batch_size(p, 5000);
  v_deleted integer;
begin
  v_deleted := public.cleanup_expired_message_queue(p_batch_size => v_batch, p_max_batches => 1);
  perform private.cron_run_advance((p ->> 'runId')::bigint, v_deleted);
  return jsonb_build_object('deleted', v_deleted, 'done', v_deleted < v_batch);
end
$$;

-- cron_cleanup_scrape_jobs_step({ runId, days, batchSize? = 25 }) → { deleted, done }
-- One batch of cleanup_old_scrape_jobs(days): jobs (with their results and stats) older than days.
create function public.cron_cleanup_scrape_jobs_step(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_batch integer := private.cron_batch_size(p, 25);
  v_deleted integer;
begin
  if jsonb_typeof(p -> 'days') is distinct from 'number' then
    raise exception using errcode = '22023', message = 'days: required number';
  end if;
  v_deleted := public.cleanup_old_scrape_jobs((p ->> 'days')::integer, v_batch, 1);
  perform private.cron_run_advance((p ->> 'runId')::bigint, v_deleted);
  return jsonb_build_object('deleted', v_deleted, 'done', v_deleted < v_batch);
end
$$;

-- cron_conversation_retention_step({ runId, cursor?, batchSize? = 200 }) → { deleted, done, cursor }
-- Deletes up to batchSize conversations (their messages go by cascade, their session's dead-lettered
-- queue rows with them) whose last activity is
-- older than their customer's retention_days, visiting customers in id order from `cursor` (the
-- customer the previous step stopped in) so each step starts where the last one ended instead of
-- probing every customer again. Conversations locked by a writer are skipped, never waited for.
create function public.cron_conversation_retention_step(jsonb) returns jsonb
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

select private.restrict_public_functions();
