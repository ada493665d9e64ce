-- PL/pgSQL keeps a statement's plan for the life of a connection, and after five calls a generic
-- one, planned for the table as it was then. The queue's statements were planned while
-- message_queue was small (a new customer, a fresh database, the hour after a cleanup): a
-- sequential scan joined by hash in queue_deliver and a walk of the claim index filtered by id in
-- queue_claim, both cheap on a few rows — and kept, as the table grew, until the next ANALYZE
-- invalidated them. Every delivery then read the whole queue: measured under the HTTP benchmark
-- (docs/benchmarks.md), queue_deliver went from 3 ms to 17 ms a call within a minute and the
-- widget's send throughput fell round after round. Planning each call for the table as it is now
-- costs a fraction of a millisecond. queue_deliver also names its rows by primary key (`id = any`
-- of the items' ids, known when the call plans): its join of the items with message_queue, planned
-- without knowing how many items there are, preferred reading the table to 100 index lookups.
alter function public.queue_claim(jsonb) set plan_cache_mode = force_custom_plan;

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
  v_items jsonb := private.arg(p, 'items', 'array');
  v_ids uuid[] := array(select (x ->> 'id')::uuid from jsonb_array_elements(v_items) x);
begin
  for v_item in
    select q.*, x -> 'reply' as reply, coalesce((x ->> 'needsStaff')::boolean, false) as needs_staff
      from public.message_queue q
      join jsonb_array_elements(v_items) x on q.id = (x ->> 'id')::uuid
     where q.id = any (v_ids)
       and q.status in ('pending', 'processing', 'completed')
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
alter function public.queue_deliver(jsonb) set plan_cache_mode = force_custom_plan;
