-- Rollback of 20261201010000_customer_members.sql.
drop function if exists public.customer_members_remove(jsonb);
drop function if exists public.customer_members_list(jsonb);
