-- Rollback of 20261122055000_journal_apply.sql.
drop function if exists public.journal_apply(jsonb);
