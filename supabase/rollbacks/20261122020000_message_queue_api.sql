-- Rollback of 20261122020000_message_queue_api.sql.
drop function if exists public.queue_stats(jsonb);
drop function if exists public.queue_session(jsonb);
drop function if exists public.queue_deliver(jsonb);
drop function if exists public.queue_retry(jsonb);
drop function if exists public.queue_fail(jsonb);
drop function if exists public.queue_claim(jsonb);
drop function if exists public.queue_complete(jsonb);
drop function if exists public.queue_enqueue(jsonb);
drop function if exists private.session_conversation(uuid, text);
drop function if exists private.arg_array(jsonb, text);
drop function if exists private.arg_text(jsonb, text);
drop function if exists private.message_json(public.messages);
drop function if exists private.queue_json(public.message_queue);
drop index if exists public.messages_conversation_position_idx;
drop index if exists public.message_queue_session_idx;
drop index if exists public.message_queue_claim_idx;
alter table public.messages drop column if exists position;
alter table public.message_queue drop column if exists position;
drop sequence if exists public.message_position_seq;
create index messages_conversation_idx on public.messages (conversation_id, created_at, id);
create index message_queue_ready_idx on public.message_queue (available_at)
  where status in ('pending', 'processing');
