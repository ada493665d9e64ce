-- Rollback of 20261122000100_tenancy.sql.
drop function if exists public.customers_get_by_public_key(jsonb);
drop function if exists public.customers_get(jsonb);
drop function if exists public.customers_create(jsonb);
drop function if exists private.customer_json(public.customers);
drop table if exists public.customer_members;
drop table if exists public.customers;
drop function if exists private.member_customer_ids();
drop function if exists private.are_valid_origins(text[]);
