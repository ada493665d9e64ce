-- Queue ids that keep a session's messages together in the primary key (issue 16, goal 3).
--
-- A queued message's id is derived from its idempotency key, so that a call recorded on the embedded
-- fallback during an outage and replayed into the primary names the same row there (see
-- private.stable_uuid). It was md5('queue:<customer>:<session>:<clientMessageId>'): deterministic,
-- but uniformly random, so the 100 messages of one enqueue went to ~100 different leaf pages of the
-- primary key, and so did their completions (a completion is a non-HOT update: it inserts the new
-- version into the primary key again). After every checkpoint the first change to a page writes the
-- whole page to the WAL; with random keys that is nearly every insertion. Measured on PostgreSQL 15
-- right after a checkpoint (EXPLAIN (ANALYZE, BUFFERS, WAL), 100 messages of one session, the
-- table's three indexes): 90-100 full-page images and 550-600 kB of WAL per batch, against 2-6
-- full-page images and 56-75 kB with the ids below.
--
-- The new id is still a pure function of (customer, session, clientMessageId), on every backend:
-- its first 64 bits are md5 of the session (the same for all of the session's messages, so they
-- sit side by side in the primary key) and its last 64 bits those of the old id's hash. Two
-- messages share an id only if both halves collide, i.e. as (un)likely as before.
--
-- Idempotency does not depend on the id: enqueue still conflicts on the (customer, session,
-- clientMessageId) key, so a message stored under the old scheme is recognised as the same message
-- when enqueued again, and keeps its id. Ids only have to agree between the fallback and the
-- primary, which run the same migrations.
create function private.queue_message_id(p_customer uuid, p_session text, p_client_message_id text) returns uuid
language sql immutable
as $$
  select (left(md5(format('queue-session:%s:%s', p_customer, p_session)), 16)
          || right(md5(format('queue:%s:%s:%s', p_customer, p_session, p_client_message_id)), 16))::uuid
$$;
revoke all on function private.queue_message_id(uuid, text, text) from public;
grant execute on function private.queue_message_id(uuid, text, text) to service_role;

-- queue_enqueue({ customerId, sessionId, messages: [{ clientMessageId, data }] })
--   → { conversationId, messages: [{ id, clientMessageId, status, position, created }] } in input order.
-- As in 20261122020000_message_queue_api.sql; only the id of a new row changed (above).
create or replace function public.queue_enqueue(jsonb) returns jsonb
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
    select private.queue_message_id(v_customer, v_session, m ->> 'clientMessageId'),
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

select private.restrict_public_functions();
