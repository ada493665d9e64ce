-- Down migration of 20261202110100_queue_clustered_ids.sql: queue_enqueue as
-- 20261122020000_message_queue_api.sql defined it (ids md5 of the whole key), then the id function goes.

-- queue_enqueue({ customerId, sessionId, messages: [{ clientMessageId, data }] })
--   → { conversationId, messages: [{ id, clientMessageId, status, position, created }] } in input order.
-- A repeated clientMessageId returns the stored message with created = false and changes nothing;
-- a clientMessageId repeated within the batch is answered once. New messages count against the
-- customer's monthly message allowance (plan_limits); past it the batch is refused with OMUSE.
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

drop function private.queue_message_id(uuid, text, text);

select private.restrict_public_functions();
