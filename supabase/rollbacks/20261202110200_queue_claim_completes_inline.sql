-- Down migration of 20261202110200_queue_claim_completes_inline.sql: queue_claim as
-- 20261122020000_message_queue_api.sql defined it (calling queue_complete).

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
  if p ? 'complete' then
    perform public.queue_complete(jsonb_build_object('ids', p -> 'complete'));
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

select private.restrict_public_functions();
