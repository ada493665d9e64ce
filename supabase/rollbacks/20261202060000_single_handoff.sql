-- Rollback of 20261202060000_single_handoff.sql: queue_deliver as 20261122020000_message_queue_api.sql
-- defined it (one failing item fails the batch; a hand-off reply for every unanswerable message).
create or replace function public.queue_deliver(jsonb) returns jsonb
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

select private.restrict_public_functions();
