-- platform: what Supabase provides and plain PostgreSQL / PGlite lack, created only when absent
-- (the same as the bootstrap migration, 20261122000000_bootstrap.sql): the roles anon,
-- authenticated and service_role (service_role bypasses RLS, as on Supabase) and schema auth with
-- auth.uid(), auth.role() and auth.jwt() reading request.jwt.claims. On Supabase this file changes
-- nothing. Written by hand; `npm run db:schemas` generates the other files (docs/database.md).

-- Roles are cluster-wide: another database of the same cluster may be creating them concurrently.
do $$
declare
  v_role text;
begin
  foreach v_role in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = v_role) then
      begin
        execute format('create role %I nologin noinherit%s', v_role,
                       case when v_role = 'service_role' then ' bypassrls' else '' end);
      exception when duplicate_object or unique_violation then
        null; -- created meanwhile by a concurrent migration of another database
      end;
    end if;
  end loop;
end
$$;


do $$
begin
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth') then
    create schema auth;
    comment on schema auth is 'omniops-bootstrap';
    grant usage on schema auth to anon, authenticated, service_role;
  end if;

  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
      )::uuid
    $f$;
    comment on function auth.uid() is 'omniops-bootstrap';
  end if;

  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
      )::text
    $f$;
    comment on function auth.role() is 'omniops-bootstrap';
  end if;

  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb
    language sql stable
    as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
    comment on function auth.jwt() is 'omniops-bootstrap';
  end if;
end
$$;

