-- Rollback of 20261122080000_staff_members.sql.
drop function if exists public.customer_members_add(jsonb);
drop function if exists public.staff_memberships(jsonb);
