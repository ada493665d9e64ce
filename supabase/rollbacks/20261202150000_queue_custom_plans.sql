-- Down migration of 20261202150000_queue_custom_plans.sql: queue_deliver as 20261202060000_single_handoff.sql
-- defined it, both functions planned as PL/pgSQL plans by default.
alter function public.queue_claim(jsonb) reset plan_cache_mode;

create or replace function public.queue_deliver(jsonb) returns jsonb
language plpgsql
as $$
declare
  p alias for $1;
  v_item record;
  v_conversation uuid;
  v_status text;
  v_delivered uuid[] := '{}';
  v_failed jsonb := '[]';
begin
  for v_item in
    select q.*, x -> 'reply' as reply, coalesce((x ->> 'needsStaff')::boolean, false) as needs_staff
      from jsonb_array_elements(private.arg(p, 'items', 'array')) x
      join public.message_queue q on q.id = (x ->> 'id')::uuid
     where q.status in ('pending', 'processing', 'completed')
     order by q.position
       for update of q
  loop
    begin
      v_conversation := private.session_conversation(v_item.customer_id, v_item.session_id);
      select c.status into strict v_status from public.conversations c where c.id = v_conversation for update;
      insert into public.messages (id, conversation_id, customer_id, role, content, client_message_id, position, metadata, created_at)
      values (private.stable_uuid(format('message:%s:%s', v_conversation, v_item.client_message_id)),
              v_conversation, v_item.customer_id, 'visitor', coalesce(v_item.message_data ->> 'text', ''),
              v_item.client_message_id, v_item.position,
              jsonb_build_object('queueId', v_item.id) || coalesce(v_item.message_data -> 'metadata', '{}'),
              v_item.created_at)
      on conflict (conversation_id, client_message_id) do nothing;
      -- A hand-off while the conversation already waits for staff would repeat the one it got.
      if jsonb_typeof(v_item.reply -> 'content') = 'string' and not (v_item.needs_staff and v_status = 'needs_staff') then
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
    exception when others then
      v_failed := v_failed || jsonb_build_array(jsonb_build_object(
        'id', v_item.id, 'error', format('[omniops] [queue] delivery refused (%s): %s', sqlstate, sqlerrm)));
    end;
  end loop;
  return jsonb_build_object('delivered', to_jsonb(v_delivered), 'failed', v_failed);
end
$$;
