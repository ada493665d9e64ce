-- Down migration of 20261202110000_queue_hot_claims.sql: message_queue back to fillfactor 75.
alter table public.message_queue set (fillfactor = 75);
