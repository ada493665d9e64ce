-- Rollback of 20261122000000_bootstrap.sql. Removes only what the bootstrap created (marked
-- 'omniops-bootstrap'); on Supabase the auth schema and its functions are Supabase's and stay.
-- Roles are cluster-wide and may be used by other databases, so they are left in place.

drop function if exists private.restrict_public_functions();
drop function if exists private.touch_updated_at();
drop schema if exists private;

do $$
declare
  v_fn text;
begin
  foreach v_fn in array array['auth.uid()', 'auth.role()', 'auth.jwt()'] loop
    if to_regprocedure(v_fn) is not null
       and obj_description(to_regprocedure(v_fn), 'pg_proc') = 'omniops-bootstrap' then
      execute format('drop function %s', v_fn);
    end if;
  end loop;
  if exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth')
     and obj_description('auth'::regnamespace, 'pg_namespace') = 'omniops-bootstrap' then
    drop schema auth;
  end if;
end
$$;
