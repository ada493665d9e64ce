-- Rollback of 20261202010000_widget_abuse.sql: no widget_customer.
drop function if exists public.widget_customer(jsonb);
