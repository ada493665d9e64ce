-- Rollback of 20261122000200_messaging.sql.
drop function if exists public.cleanup_expired_message_queue(integer, integer);
drop table if exists public.message_queue;
drop table if exists public.messages;
drop table if exists public.conversations;
drop sequence if exists public.message_position_seq;
