-- Bootstrap: what Supabase provides and plain PostgreSQL / PGlite lack, created only when absent, so
-- the same migrations apply unchanged to Supabase, any Postgres and embedded PGlite.
--   * roles anon, authenticated, service_role (service_role bypasses RLS, as on Supabase)
--   * schema auth with auth.uid(), auth.role() and auth.jwt() reading request.jwt.claims
--   * schema private: helpers that the Data API never exposes
-- Objects this migration creates are marked with the comment 'omniops-bootstrap' so the rollback
-- removes exactly those and never what Supabase itself provides.

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

grant usage on schema public to anon, authenticated, service_role;

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

create schema if not exists private;
comment on schema private is 'omniops: helpers never exposed through the Data API';
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

-- Keeps updated_at current on every UPDATE.
create function private.touch_updated_at() returns trigger
language plpgsql
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- Every function in schema public is a server-side RPC taking ONE UNNAMED jsonb parameter
-- (PostgREST passes the whole request body only to an unnamed json/jsonb parameter; a named one
-- would expect {"name": ...}). In plpgsql, give it a name with `declare p alias for $1;`.
-- RPCs are callable by service_role only, never by
-- anon or authenticated (Supabase grants EXECUTE on new public functions to both by default).
-- Each migration calls this after creating its functions.
create function private.restrict_public_functions() returns void
language plpgsql
as $$
declare
  v_fn regprocedure;
begin
  for v_fn in
    select p.oid::regprocedure
      from pg_catalog.pg_proc p
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public'
       and p.prokind in ('f', 'p')
       and not exists (select 1 from pg_catalog.pg_depend d where d.objid = p.oid and d.deptype = 'e')
  loop
    execute format('revoke all on routine %s from public, anon, authenticated', v_fn);
    execute format('grant execute on routine %s to service_role', v_fn);
  end loop;
end
$$;
revoke all on function private.restrict_public_functions() from public;
