-- No-tenant check, run as a LOGIN member of clientforge_app in a session
-- where app.current_tenant_id has never been set. For every tenant-scoped
-- table (from the catalog: pg_temp.tenant_tables, the temporary view
-- check_schema.sh creates from src/checks/scope.sql in front of this file)
-- and for public.tenants:
--   - with the setting unset (current_setting(..., true) IS NULL) and with it
--     set to '' (what a custom setting reverts to after SET LOCAL ends),
--     SELECT returns 0 rows and raises no error;
--   - an INSERT (copy of nothing: a row with every column defaulted except
--     tenant_id = check.tenant_a) is refused with 42501.
-- Also: public.resolve_tenant_id() resolves tenant A's slug without a tenant
-- context (the pre-login lookup), and returns NULL for an unknown slug.
-- Input: check.tenant_a (custom setting), as for tenant_isolation_check.sql.
DO $check$
DECLARE
  a        uuid := NULLIF(current_setting('check.tenant_a', true), '')::uuid;
  t        record;
  n        bigint;
  mode     text;
  failures text[] := '{}';
  checked  integer := 0;
BEGIN
  IF a IS NULL THEN
    RAISE EXCEPTION 'set check.tenant_a';
  END IF;
  IF (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'run this check as an ordinary member of clientforge_app, not as %', current_user;
  END IF;
  IF current_setting('app.current_tenant_id', true) IS NOT NULL THEN
    RAISE EXCEPTION 'run this check in a fresh session (app.current_tenant_id is already defined: %)',
      quote_literal(current_setting('app.current_tenant_id', true));
  END IF;

  FOREACH mode IN ARRAY ARRAY['unset', 'empty'] LOOP
    IF mode = 'empty' THEN
      PERFORM set_config('app.current_tenant_id', '', true);
    END IF;

    FOR t IN
      SELECT tt.qname FROM pg_temp.tenant_tables tt
      UNION ALL
      SELECT 'public.tenants' WHERE to_regclass('public.tenants') IS NOT NULL
      ORDER BY 1
    LOOP
      checked := checked + 1;
      BEGIN
        EXECUTE format('SELECT count(*) FROM %s', t.qname) INTO n;
        IF n <> 0 THEN
          failures := failures || format('%s (%s tenant): sees %s rows', t.qname, mode, n);
        END IF;
      EXCEPTION WHEN OTHERS THEN
        failures := failures || format('%s (%s tenant): SELECT raised %s %s', t.qname, mode, SQLSTATE, SQLERRM);
      END;

      BEGIN
        IF t.qname = 'public.tenants' THEN
          EXECUTE 'INSERT INTO public.tenants (id, name, slug) VALUES ($1, ''x'', ''no-context-check'')'
            USING gen_random_uuid();
        ELSE
          -- NOT NULL / CHECK violations come after the RLS check, so any
          -- other error than 42501 means the row passed WITH CHECK.
          EXECUTE format('INSERT INTO %s (tenant_id) VALUES ($1)', t.qname) USING a;
        END IF;
        failures := failures || format('%s (%s tenant): INSERT succeeded', t.qname, mode);
        RAISE SQLSTATE 'P0099';
      EXCEPTION
        WHEN SQLSTATE 'P0099' THEN NULL;
        WHEN insufficient_privilege THEN NULL;
        WHEN OTHERS THEN
          failures := failures || format('%s (%s tenant): INSERT raised %s instead of 42501: %s',
                                         t.qname, mode, SQLSTATE, SQLERRM);
      END;
    END LOOP;
  END LOOP;

  IF to_regprocedure('public.resolve_tenant_id(text)') IS NOT NULL THEN
    IF public.resolve_tenant_id('t-' || left(replace(a::text, '-', ''), 12)) IS DISTINCT FROM a THEN
      failures := failures || 'resolve_tenant_id() does not resolve tenant A''s slug'::text;
    END IF;
    IF public.resolve_tenant_id('no-such-tenant') IS NOT NULL THEN
      failures := failures || 'resolve_tenant_id() resolves an unknown slug'::text;
    END IF;
  END IF;

  IF cardinality(failures) > 0 THEN
    RAISE EXCEPTION 'no-tenant check failed (% problems):%', cardinality(failures),
      E'\n  ' || array_to_string(failures, E'\n  ');
  END IF;
  RAISE NOTICE 'no-tenant check passed (% table probes)', checked;
END
$check$;
