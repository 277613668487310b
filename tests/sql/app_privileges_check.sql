-- Least-privilege check for clientforge_app, run as a LOGIN member of it
-- (never a superuser), after tenant_fixtures.sql. Each probe runs in a
-- rolled-back subtransaction; raises an exception listing the failures.
--   Allowed:  writing the query-performance log; executing resolve_tenant_id().
--   Refused (42501): anything that bypasses or alters RLS (TRUNCATE, ALTER
--   TABLE, reading the cross-tenant materialized views / monitoring views),
--   writes to global reference data and append-only ledgers, DDL in public,
--   executing migration/maintenance functions.
DO $check$
DECLARE
  probe    record;
  failures text[] := '{}';
BEGIN
  IF (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'run this check as an ordinary member of clientforge_app, not as %', current_user;
  END IF;
  IF NOT pg_has_role(current_user, 'clientforge_app', 'USAGE') THEN
    RAISE EXCEPTION '% is not a member of clientforge_app', current_user;
  END IF;

  FOR probe IN
    SELECT * FROM (VALUES
      (true,  'monitoring log insert',
       $$INSERT INTO monitoring.query_performance_log (query_hash, query_text, duration_ms) VALUES ('h1', 'SELECT 1', 12.5)$$),
      (true,  'resolve_tenant_id()', $$SELECT public.resolve_tenant_id('nobody')$$),
      (false, 'monitoring log read', $$SELECT count(*) FROM monitoring.query_performance_log$$),
      (false, 'monitoring view', $$SELECT count(*) FROM monitoring.table_usage$$),
      (false, 'reporting matview', $$SELECT count(*) FROM reporting.tenant_contact_stats$$),
      (false, 'reporting matview', $$SELECT count(*) FROM reporting.tenant_deal_stats$$),
      (false, 'refresh_tenant_stats()', $$SELECT public.refresh_tenant_stats()$$),
      (false, 'enable_tenant_isolation()', $$SELECT public.enable_tenant_isolation('public.contacts')$$),
      (false, 'TRUNCATE (bypasses RLS)', $$TRUNCATE public.audit_logs$$),
      (false, 'ALTER TABLE', $$ALTER TABLE public.contacts DISABLE ROW LEVEL SECURITY$$),
      (false, 'DROP POLICY', $$DROP POLICY tenant_isolation ON public.contacts$$),
      (false, 'CREATE TABLE in public', $$CREATE TABLE public.app_check_probe (i int)$$),
      (false, 'write global plans', $$UPDATE public.plans SET name = name$$),
      (false, 'write global permissions', $$DELETE FROM public.permissions$$),
      (false, 'update append-only audit_logs', $$UPDATE public.audit_logs SET action = action$$),
      (false, 'delete append-only audit_logs', $$DELETE FROM public.audit_logs$$),
      (false, 'update append-only ai_usage', $$UPDATE public.ai_usage SET cost = cost$$)
    ) AS p(allowed, label, stmt)
  LOOP
    BEGIN
      EXECUTE probe.stmt;
      IF NOT probe.allowed THEN
        failures := failures || format('%s: allowed, expected permission denied (%s)', probe.label, probe.stmt);
      END IF;
      RAISE SQLSTATE 'P0099';
    EXCEPTION
      WHEN SQLSTATE 'P0099' THEN NULL;
      WHEN undefined_table OR undefined_function OR invalid_schema_name THEN
        NULL;  -- object from an optional migration that is not installed
      WHEN insufficient_privilege THEN
        IF probe.allowed THEN
          failures := failures || format('%s: permission denied: %s', probe.label, SQLERRM);
        END IF;
      WHEN OTHERS THEN
        failures := failures || format('%s: unexpected %s %s', probe.label, SQLSTATE, SQLERRM);
    END;
  END LOOP;

  IF cardinality(failures) > 0 THEN
    RAISE EXCEPTION 'app privilege check failed (% problems):%', cardinality(failures),
      E'\n  ' || array_to_string(failures, E'\n  ');
  END IF;
  RAISE NOTICE 'app privilege check passed';
END
$check$;
