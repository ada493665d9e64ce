-- Rollback of 20261202100000_widget_send.sql: no widget_send (the widget enqueues, claims and searches
-- in separate calls again).
drop function if exists public.widget_send(jsonb);
