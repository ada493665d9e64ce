-- The message queue's RPCs: a real Postgres queue in the manner of pgmq / pg-boss, plus the
-- delivery of queued visitor messages into conversations/messages.
--
--   queue_enqueue   batch, idempotent on (customer, session, client_message_id)
--   queue_claim     visibility timeout with FOR UPDATE SKIP LOCKED; can complete the previous batch
--   queue_complete  mark processed
--   queue_fail      exponential backoff on available_at, dead letter (failed) after max retries
--   queue_retry     dead letters back to pending (dashboard / API)
--   queue_deliver   move claimed messages (and an optional reply) into messages, completed, atomically
--   queue_session   a session's conversation and outbox states, for the widget to rebuild its view
--   queue_stats     depth by status
--
-- Visibility works like pgmq's `vt`: a claim sets status 'processing' and pushes available_at (and
-- locked_until) to now + timeout; a row is claimable when it is pending or processing and
-- available_at has passed, so a crashed worker's claim simply expires. Each expired claim counts
-- as a failed attempt, so a message that keeps crashing its worker ends up dead-lettered.
--
-- The hot-path functions (enqueue, claim, complete) return slim JSON and touch only the columns
-- they must: their cost against a bare SQL queue is measured by bench/queue.ts.

-- Ids derived from idempotency keys: the same call makes the same rows on any backend. A call
-- recorded on the embedded fallback during an outage and replayed into the primary afterwards
-- (lib/db/fallback.ts) then names the same queue rows, conversations and messages there — a replayed
-- queue_deliver finds the queue rows a replayed queue_enqueue created. (md5 is used as a 128-bit
-- name hash here, not for security.)
create function private.stable_uuid(p_name text) returns uuid
language sql immutable
as $$
  select md5(p_name)::uuid
$$;

-- The public JSON shape of a queued message.
create function private.queue_json(q public.message_queue) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', q.id,
    'customerId', q.customer_id,
    'sessionId', q.session_id,
    'conversationId', q.conversation_id,
    'clientMessageId', q.client_message_id,
    'data', q.message_data,
    'status', q.status,
    'retryCount', q.retry_count,
    'position', q.position,
    'availableAt', q.available_at,
    'lockedUntil', q.locked_until,
    'lastError', q.last_error,
    'createdAt', q.created_at,
    'processedAt', q.processed_at
  )
$$;

-- What a worker needs of a claimed message.
create function private.claimed_json(q public.message_queue) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', q.id,
    'customerId', q.customer_id,
    'sessionId', q.session_id,
    'clientMessageId', q.client_message_id,
    'data', q.message_data,
    'retryCount', q.retry_count,
    'position', q.position
  )
$$;

create function private.message_json(m public.messages) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'id', m.id,
    'conversationId', m.conversation_id,
    'role', m.role,
    'content', m.content,
    'clientMessageId', m.client_message_id,
    'position', m.position,
    'metadata', m.metadata,
    'createdAt', m.created_at
  )
$$;

-- A required field of an RPC argument (`expected`: its jsonb type), or a 22023 error naming it.
-- Text fields are read with `#>> '{}'`.
create function private.arg(p jsonb, key text, expected text) returns jsonb
language plpgsql immutable
as $$
begin
  if jsonb_typeof(p -> key) is distinct from expected then
    raise exception using errcode = '22023', message = format('%s: required %s', key, expected);
  end if;
  return p -> key;
end
$$;

-- The conversation of a widget session, created on first use. Race-free: a concurrent creator's
-- insert makes ours do nothing, and the following select sees its row once it commits.
create function private.session_conversation(p_customer uuid, p_session text) returns uuid
language plpgsql
as $$
declare
  v_id uuid;
begin
  select c.id into v_id from public.conversations c where c.customer_id = p_customer and c.session_id = p_session;
  if found then
    return v_id;
  end if;
  insert into public.conversations (id, customer_id, session_id)
  values (private.stable_uuid(format('conversation:%s:%s', p_customer, p_session)), p_customer, p_session)
  on conflict (customer_id, session_id) do nothing
  returning id into v_id;
  if v_id is null then
    select c.id into strict v_id from public.conversations c
     where c.customer_id = p_customer and c.session_id = p_session;
  end if;
  return v_id;
end
$$;

-- queue_enqueue({ customerId, sessionId, messages: [{ clientMessageId, data }] })
--   → { conversationId, messages: [{ id, clientMessageId, status, position, created }] } in input order.
-- A repeated clientMessageId returns the stored message with created = false and changes nothing;
-- a clientMessageId repeated within the batch is answered once. New messages count against the
-- customer's monthly message allowance (plan_limits); past it the batch is refused with OMUSE.
create function public.queue_enqueue(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_customer uuid := (private.arg(p, 'customerId', 'string') #>> '{}')::uuid;
  v_session text := private.arg(p, 'sessionId', 'string') #>> '{}';
  v_messages jsonb := private.arg(p, 'messages', 'array');
  v_conversation uuid;
  v_created uuid[];
  v_result jsonb;
begin
  if jsonb_array_length(v_messages) = 0 then
    raise exception using errcode = '22023', message = 'messages: must not be empty';
  end if;
  if exists (select 1 from jsonb_array_elements(v_messages) m
              where jsonb_typeof(m -> 'clientMessageId') is distinct from 'string'
                 or jsonb_typeof(m -> 'data') is distinct from 'object') then
    raise exception using errcode = '22023', message = 'messages: each needs a string clientMessageId and an object data';
  end if;

  v_conversation := private.session_conversation(v_customer, v_session);

  with inserted as (
    insert into public.message_queue (id, customer_id, session_id, conversation_id, client_message_id, message_data)
    select private.stable_uuid(format('queue:%s:%s:%s', v_customer, v_session, m ->> 'clientMessageId')),
           v_customer, v_session, v_conversation, m ->> 'clientMessageId', m -> 'data'
      from jsonb_array_elements(v_messages) with ordinality as t(m, ord)
     order by ord
    on conflict (customer_id, session_id, client_message_id) do nothing
    returning id, client_message_id, position
  )
  select array_agg(i.id),
         jsonb_agg(jsonb_build_object('id', i.id, 'clientMessageId', i.client_message_id, 'status', 'pending',
                                      'position', i.position, 'created', true) order by i.position)
    into v_created, v_result
    from inserted i;

  -- Usage is counted where it happens, in this transaction: over the plan's monthly limit the
  -- whole batch is refused (SQLSTATE OMUSE) and rolls back; repeats are never counted twice. A call
  -- replayed from the outage journal (`replayedFrom`) was accepted already: counted, never refused.
  if coalesce(array_length(v_created, 1), 0) > 0 then
    perform private.usage_require(v_customer, 'message', array_length(v_created, 1), now(), not (p ? 'replayedFrom'));
  end if;

  -- Fast path: everything was new (positions follow input order). Otherwise answer from the table.
  if coalesce(array_length(v_created, 1), 0) < jsonb_array_length(v_messages) then
    select jsonb_agg(jsonb_build_object('id', q.id, 'clientMessageId', q.client_message_id, 'status', q.status,
                                        'position', q.position, 'created', q.id = any (coalesce(v_created, '{}')))
                     order by i.ord)
      into v_result
      from (select t.m ->> 'clientMessageId' as client_message_id, min(t.ord) as ord
              from jsonb_array_elements(v_messages) with ordinality as t(m, ord)
             group by 1) i
      join public.message_queue q
        on q.customer_id = v_customer and q.session_id = v_session and q.client_message_id = i.client_message_id;
  end if;

  return jsonb_build_object('conversationId', v_conversation, 'messages', v_result);
end
$$;

-- queue_claim({ limit?, visibilityTimeoutSeconds?, ids?, complete?, maxRetries? })
--   → [{ id, customerId, sessionId, clientMessageId, data, retryCount, position }]
-- Claims up to `limit` (default 10, at most 1000) claimable messages in position order, or only
-- those among `ids`. `complete` lists previously claimed ids to mark completed first, in the same
-- round trip. Picking a message whose claim expired counts a failed attempt; one that has used
-- up maxRetries (default 5) attempts is dead-lettered instead of claimed again.
create function public.queue_claim(jsonb) returns jsonb
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

-- queue_complete({ ids }) → { completed: n }. Idempotent: completing a completed message is a no-op.
create function public.queue_complete(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_count integer;
begin
  update public.message_queue q
     set status = 'completed', processed_at = now(), expires_at = now() + interval '24 hours',
         locked_until = null, updated_at = now()
   where q.id in (select jsonb_array_elements_text(private.arg(p, 'ids', 'array'))::uuid)
     and q.status in ('pending', 'processing');
  get diagnostics v_count = row_count;
  return jsonb_build_object('completed', v_count);
end
$$;

-- queue_fail({ failures: [{ id, error }], maxRetries?, baseDelaySeconds? }) → [queued message]
-- Each failure counts an attempt: back to pending with available_at = now + base · 2^(attempt-1)
-- (default base 1 s, capped at 1 h), or dead-lettered (failed) once maxRetries (default 5) is reached.
create function public.queue_fail(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_max integer := coalesce((p ->> 'maxRetries')::integer, 5);
  v_base double precision := coalesce((p ->> 'baseDelaySeconds')::double precision, 1);
  v_failed jsonb;
begin
  with f as (
    select (x ->> 'id')::uuid as id, left(coalesce(x ->> 'error', 'unknown error'), 2000) as error
      from jsonb_array_elements(private.arg(p, 'failures', 'array')) x
  ), updated as (
    update public.message_queue q
       set retry_count = q.retry_count + 1,
           last_error = f.error,
           locked_until = null,
           status = case when q.retry_count + 1 >= v_max then 'failed' else 'pending' end,
           processed_at = case when q.retry_count + 1 >= v_max then now() end,
           available_at = case when q.retry_count + 1 >= v_max then q.available_at
                               else now() + make_interval(secs => least(3600, v_base * 2 ^ q.retry_count)) end,
           updated_at = now()
      from f
     where q.id = f.id and q.status in ('pending', 'processing')
    returning q.*
  )
  select coalesce(jsonb_agg(private.queue_json(u) order by u.position), '[]') into v_failed from updated u;
  return v_failed;
end
$$;

-- queue_retry({ ids, customerId? }) → [queued message]: dead letters back to pending, attempts reset.
create function public.queue_retry(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_customer uuid := (p ->> 'customerId')::uuid;
  v_retried jsonb;
begin
  with updated as (
    update public.message_queue q
       set status = 'pending', retry_count = 0, available_at = now(), locked_until = null, processed_at = null,
           updated_at = now()
     where q.id in (select jsonb_array_elements_text(private.arg(p, 'ids', 'array'))::uuid)
       and q.status = 'failed'
       and (v_customer is null or q.customer_id = v_customer)
    returning q.*
  )
  select coalesce(jsonb_agg(private.queue_json(u) order by u.position), '[]') into v_retried from updated u;
  return v_retried;
end
$$;

-- queue_deliver({ items: [{ id, reply?: { content, metadata? }, needsStaff? }] }) → { delivered: [id] }
-- For each message (normally claimed by the caller): the visitor's text goes into messages at the
-- message's position, the reply (if any) after it, the conversation's activity and status are
-- updated, and the message is completed — all in one transaction. Idempotent on the messages'
-- client ids (`<clientMessageId>` and `reply:<clientMessageId>`), so a repeated delivery adds nothing.
create function public.queue_deliver(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_item record;
  v_conversation uuid;
  v_delivered uuid[] := '{}';
begin
  for v_item in
    select q.*, x -> 'reply' as reply, coalesce((x ->> 'needsStaff')::boolean, false) as needs_staff
      from jsonb_array_elements(private.arg(p, 'items', 'array')) x
      join public.message_queue q on q.id = (x ->> 'id')::uuid
     where q.status in ('pending', 'processing', 'completed')
     order by q.position
       for update of q
  loop
    v_conversation := private.session_conversation(v_item.customer_id, v_item.session_id);
    insert into public.messages (id, conversation_id, customer_id, role, content, client_message_id, position, metadata, created_at)
    values (private.stable_uuid(format('message:%s:%s', v_conversation, v_item.client_message_id)),
            v_conversation, v_item.customer_id, 'visitor', coalesce(v_item.message_data ->> 'text', ''),
            v_item.client_message_id, v_item.position,
            jsonb_build_object('queueId', v_item.id) || coalesce(v_item.message_data -> 'metadata', '{}'),
            v_item.created_at)
    on conflict (conversation_id, client_message_id) do nothing;
    if jsonb_typeof(v_item.reply -> 'content') = 'string' then
      insert into public.messages (id, conversation_id, customer_id, role, content, client_message_id, metadata)
      values (private.stable_uuid(format('message:%s:reply:%s', v_conversation, v_item.client_message_id)),
              v_conversation, v_item.customer_id, 'bot', v_item.reply ->> 'content',
              'reply:' || v_item.client_message_id, coalesce(v_item.reply -> 'metadata', '{}'))
      on conflict (conversation_id, client_message_id) do nothing;
    end if;
    update public.conversations c
       set last_message_at = greatest(c.last_message_at, now()),
           status = case when v_item.needs_staff and c.status = 'open' then 'needs_staff' else c.status end
     where c.id = v_conversation;
    update public.message_queue q
       set status = 'completed', processed_at = now(), expires_at = now() + interval '24 hours',
           locked_until = null, conversation_id = v_conversation, updated_at = now()
     where q.id = v_item.id and q.status <> 'completed';
    v_delivered := v_delivered || v_item.id;
  end loop;
  return jsonb_build_object('delivered', to_jsonb(v_delivered));
end
$$;

-- queue_session({ customerId, sessionId, afterPosition?, limit? })
--   → { conversationId, conversationStatus, messages: [message], outbox: [queued message not yet completed] }
-- `messages` are the conversation's messages after `afterPosition` (default: all), oldest first, at
-- most `limit` (default 200, at most 1000).
create function public.queue_session(jsonb) returns jsonb
language plpgsql stable
as $$
declare
  p alias for $1;
  v_customer uuid := (private.arg(p, 'customerId', 'string') #>> '{}')::uuid;
  v_session text := private.arg(p, 'sessionId', 'string') #>> '{}';
  v_after bigint := coalesce((p ->> 'afterPosition')::bigint, 0);
  v_limit integer := coalesce((p ->> 'limit')::integer, 200);
  v_conversation public.conversations;
begin
  if v_limit not between 1 and 1000 then
    raise exception using errcode = '22023', message = 'limit: must be between 1 and 1000';
  end if;
  select c.* into v_conversation from public.conversations c
   where c.customer_id = v_customer and c.session_id = v_session;
  return jsonb_build_object(
    'conversationId', v_conversation.id,
    'conversationStatus', v_conversation.status,
    'messages', coalesce((
      select jsonb_agg(private.message_json(m) order by m.position)
        from (select * from public.messages m
               where m.conversation_id = v_conversation.id and m.position > v_after
               order by m.position limit v_limit) m), '[]'),
    'outbox', coalesce((
      select jsonb_agg(private.queue_json(q) order by q.position)
        from public.message_queue q
       where q.customer_id = v_customer and q.session_id = v_session and q.status <> 'completed'), '[]')
  );
end
$$;

-- conversation_reply({ conversationId, customerId?, role?, content, clientMessageId, metadata? })
--   → { message, created }
-- A staff (default) or bot reply, idempotent on clientMessageId within the conversation. A staff
-- reply takes a conversation that waited for staff back to open. customerId, when given, must own
-- the conversation (else P0002, as for an unknown conversation).
create function public.conversation_reply(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_role text := coalesce(p ->> 'role', 'staff');
  v_conversation public.conversations;
  v_message public.messages;
begin
  if v_role not in ('staff', 'bot') then
    raise exception using errcode = '22023', message = 'role: must be staff or bot';
  end if;
  select c.* into v_conversation from public.conversations c
   where c.id = (private.arg(p, 'conversationId', 'string') #>> '{}')::uuid
     and (p ->> 'customerId' is null or c.customer_id = (p ->> 'customerId')::uuid);
  if not found then
    raise exception using errcode = 'P0002', message = 'conversationId: no such conversation';
  end if;
  insert into public.messages (id, conversation_id, customer_id, role, content, client_message_id, metadata)
  values (private.stable_uuid(format('message:%s:%s', v_conversation.id, private.arg(p, 'clientMessageId', 'string') #>> '{}')),
          v_conversation.id, v_conversation.customer_id, v_role, (private.arg(p, 'content', 'string') #>> '{}'),
          (private.arg(p, 'clientMessageId', 'string') #>> '{}'), coalesce(p -> 'metadata', '{}'))
  on conflict (conversation_id, client_message_id) do nothing
  returning * into v_message;
  if v_message.id is null then
    select m.* into strict v_message from public.messages m
     where m.conversation_id = v_conversation.id and m.client_message_id = p ->> 'clientMessageId';
    return jsonb_build_object('message', private.message_json(v_message), 'created', false);
  end if;
  update public.conversations c
     set last_message_at = now(),
         status = case when v_role = 'staff' and c.status = 'needs_staff' then 'open' else c.status end
   where c.id = v_conversation.id;
  return jsonb_build_object('message', private.message_json(v_message), 'created', true);
end
$$;

-- queue_stats({ customerId? }) → { pending, processing, completed, failed }
create function public.queue_stats(jsonb) returns jsonb
language sql stable
as $$
  select jsonb_build_object(
    'pending', count(*) filter (where status = 'pending'),
    'processing', count(*) filter (where status = 'processing'),
    'completed', count(*) filter (where status = 'completed'),
    'failed', count(*) filter (where status = 'failed'))
    from public.message_queue
   where $1 ->> 'customerId' is null or customer_id = ($1 ->> 'customerId')::uuid
$$;

select private.restrict_public_functions();
