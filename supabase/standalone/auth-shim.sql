-- What Supabase provides and the migrations rely on, for databases that are not
-- Supabase: plain PostgreSQL, PGlite, and the row-level-security tests.
-- NEVER apply this to a Supabase project: it already has these roles and an
-- `auth` schema of its own.
--
-- auth.uid() reads the caller's JWT claims the way Supabase's does: PostgREST
-- sets `request.jwt.claims` (a JSON object) for each request, older versions
-- set `request.jwt.claim.sub`. Idempotent: safe to apply on every start.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    -- BYPASSRLS as on Supabase when we may grant it; without it (a managed
    -- PostgreSQL's admin user) service_role still gets the table grants.
    if (select rolsuper or rolbypassrls from pg_roles where rolname = current_user) then
      create role service_role nologin noinherit bypassrls;
    else
      create role service_role nologin noinherit;
    end if;
  end if;
end
$$;

create schema if not exists auth;

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;

grant usage on schema auth to anon, authenticated, service_role;
grant execute on function auth.jwt(), auth.uid(), auth.role() to anon, authenticated, service_role;
