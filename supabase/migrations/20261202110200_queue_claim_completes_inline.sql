-- queue_claim completes the previous batch itself (issue 16, goal 3): it called queue_complete, a
-- second PL/pgSQL function that built a jsonb answer the claim threw away, on every claim — the
-- call a worker makes most. Same arguments, same result, same errors.

-- queue_claim({ limit?, visibilityTimeoutSeconds?, ids?, complete?, maxRetries? })
--   → [{ id, customerId, sessionId, clientMessageId, data, retryCount, position }]
-- Claims up to `limit` (default 10, at most 1000) claimable messages in position order, or only
-- those among `ids`. `complete` lists previously claimed ids to mark completed first, in the same
-- round trip. Picking a message whose claim expired counts a failed attempt; one that has used
-- up maxRetries (default 5) attempts is dead-lettered instead of claimed again.
create or replace function public.queue_claim(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_limit integer := coalesce((p ->> 'limit')::integer, 10);
  v_timeout interval := make_interval(secs => coalesce((p ->> 'visibilityTimeoutSeconds')::double precision, 30));
  v_max integer := coalesce((p ->> 'maxRetries')::integer, 5);
  v_ids uuid[] := case when p ? 'ids' then array(select jsonb_array_elements_text(p -> 'ids')::uuid) end;
  v_claimed jsonb;
begin
  if v_limit not between 1 and 1000 then
    raise exception using errcode = '22023', message = 'limit: must be between 1 and 1000';
  end if;
  -- queue_complete's update, inline: one function call and one jsonb answer less per claim. The
  -- argument is checked as queue_complete checks it (an error names `ids`, as it always has).
  if p ? 'complete' then
    update public.message_queue q
       set status = 'completed', processed_at = now(), expires_at = now() + interval '24 hours',
           locked_until = null, updated_at = now()
     where q.id in (select jsonb_array_elements_text(private.arg(jsonb_build_object('ids', p -> 'complete'), 'ids', 'array'))::uuid)
       and q.status in ('pending', 'processing');
  end if;

  with picked as (
    select c.id, c.status = 'processing' as expired, c.status = 'processing' and c.retry_count + 1 >= v_max as dead
      from public.message_queue c
     where c.processed_at is null and c.available_at <= now()
       and (v_ids is null or c.id = any (v_ids))
     order by c.position
     limit v_limit
       for update skip locked
  ), updated as (
    update public.message_queue q
       set status = case when picked.dead then 'failed' else 'processing' end,
           retry_count = q.retry_count + case when picked.expired then 1 else 0 end,
           available_at = case when picked.dead then q.available_at else now() + v_timeout end,
           locked_until = case when picked.dead then null else now() + v_timeout end,
           processed_at = case when picked.dead then now() end,
           last_error = case when picked.dead then 'claim expired after the last attempt (worker crashed or timed out)'
                             when picked.expired then 'claim expired (worker crashed or timed out); claimed again'
                             else q.last_error end,
           updated_at = now()
      from picked
     where q.id = picked.id
    returning q.*
  )
  select coalesce(jsonb_agg(private.claimed_json(u) order by u.position), '[]') into v_claimed
    from updated u where u.status = 'processing';
  return v_claimed;
end
$$;

-- Claims stay local to the database they ran on (never journaled).
comment on function public.queue_claim(jsonb) is 'omniops:local';

select private.restrict_public_functions();
