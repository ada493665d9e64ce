-- Rollback of 20261122020000_message_queue_api.sql.
drop function if exists public.conversation_reply(jsonb);
drop function if exists public.queue_stats(jsonb);
drop function if exists public.queue_session(jsonb);
drop function if exists public.queue_deliver(jsonb);
drop function if exists public.queue_retry(jsonb);
drop function if exists public.queue_fail(jsonb);
drop function if exists public.queue_claim(jsonb);
drop function if exists public.queue_complete(jsonb);
drop function if exists public.queue_enqueue(jsonb);
drop function if exists private.session_conversation(uuid, text);
drop function if exists private.arg(jsonb, text, text);
drop function if exists private.message_json(public.messages);
drop function if exists private.claimed_json(public.message_queue);
drop function if exists private.queue_json(public.message_queue);
drop function if exists private.stable_uuid(text);
