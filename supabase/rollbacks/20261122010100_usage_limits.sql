-- Rollback of 20261122010100_usage_limits.sql.
drop function if exists public.usage_get(jsonb);
drop function if exists public.usage_increment(jsonb);
drop function if exists private.usage_require(uuid, text, integer, timestamptz, boolean);
drop function if exists private.usage_consume(uuid, text, integer, timestamptz, boolean);
drop function if exists private.usage_counter_json(integer, integer);
drop function if exists private.usage_pick(text, integer, integer, integer);
drop function if exists private.usage_resets_at(timestamptz);
drop function if exists private.utc_iso(timestamptz);
drop function if exists private.usage_month(timestamptz);
drop table if exists public.plan_limits;
