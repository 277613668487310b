-- Dynamic tenant-isolation check, run as a LOGIN role that is a member of
-- clientforge_app (never a superuser: superusers bypass RLS), after
-- tenant_fixtures.sql ran for tenants A and B.
--
-- Inputs (custom settings, e.g. PGOPTIONS='-c check.tenant_a=<uuid> -c
-- check.tenant_b=<uuid>' or SELECT set_config('check.tenant_a', $1, false)):
--   check.tenant_a  the tenant this session acts as
--   check.tenant_b  the other tenant, whose rows must stay invisible/untouched
--
-- For every tenant-scoped table found in the catalog (pg_temp.tenant_tables,
-- the temporary view check_schema.sh creates from src/checks/scope.sql in
-- front of this file: a DO block's query cannot take a WITH prefix), acting
-- as tenant A (set_config('app.current_tenant_id', A, true), i.e.
-- transaction-local, as the application does):
--   1. it sees rows (its own) and only rows with tenant_id = A;
--   2. UPDATE / DELETE of B's rows affect 0 rows (or are refused with 42501
--      where the app role lacks the privilege, e.g. append-only tables);
--   3. inserting a copy of one of its rows with tenant_id = B fails with
--      42501 (RLS WITH CHECK);
--   4. moving one of its rows to tenant B (UPDATE ... SET tenant_id = B) fails
--      with 42501.
-- And on public.tenants: A sees exactly its own row, cannot modify B's row
-- and cannot create another tenant.
-- Every probe runs in its own subtransaction and is rolled back, so the
-- check leaves the data unchanged; compare tenant_row_counts.sql before and
-- after to be sure. Raises an exception listing all failures.
DO $check$
DECLARE
  a        uuid := NULLIF(current_setting('check.tenant_a', true), '')::uuid;
  b        uuid := NULLIF(current_setting('check.tenant_b', true), '')::uuid;
  t        record;
  n        bigint;
  n_own    bigint;
  cols     text;
  sel      text;
  failures text[] := '{}';
  checked  integer := 0;
BEGIN
  IF a IS NULL OR b IS NULL OR a = b THEN
    RAISE EXCEPTION 'set check.tenant_a and check.tenant_b to two different tenant ids';
  END IF;
  IF (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RAISE EXCEPTION 'run this check as an ordinary member of clientforge_app, not as %', current_user;
  END IF;

  PERFORM set_config('app.current_tenant_id', a::text, true);

  FOR t IN
    SELECT tt.oid, tt.qname FROM pg_temp.tenant_tables tt
     ORDER BY 2
  LOOP
    checked := checked + 1;

    -- 1. visibility
    BEGIN
      EXECUTE format('SELECT count(*), count(*) FILTER (WHERE tenant_id = $1) FROM %s', t.qname)
        INTO n, n_own USING a;
      IF n_own = 0 THEN
        failures := failures || format('%s: tenant A sees none of its own rows (missing fixture?)', t.qname);
      END IF;
      IF n <> n_own THEN
        failures := failures || format('%s: tenant A sees %s rows of other tenants', t.qname, n - n_own);
      END IF;
    EXCEPTION WHEN OTHERS THEN
      failures := failures || format('%s: SELECT failed: %s %s', t.qname, SQLSTATE, SQLERRM);
    END;

    -- 2a. UPDATE of B's rows
    BEGIN
      EXECUTE format('UPDATE %s SET tenant_id = tenant_id WHERE tenant_id = $1', t.qname) USING b;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n <> 0 THEN
        failures := failures || format('%s: tenant A updated %s rows of tenant B', t.qname, n);
      END IF;
      RAISE SQLSTATE 'P0099';  -- roll back the subtransaction
    EXCEPTION
      WHEN SQLSTATE 'P0099' THEN NULL;
      WHEN insufficient_privilege THEN
        IF has_table_privilege(t.oid, 'UPDATE') THEN
          failures := failures || format('%s: UPDATE refused unexpectedly: %s', t.qname, SQLERRM);
        END IF;
      WHEN OTHERS THEN
        failures := failures || format('%s: UPDATE of B rows failed: %s %s', t.qname, SQLSTATE, SQLERRM);
    END;

    -- 2b. DELETE of B's rows
    BEGIN
      EXECUTE format('DELETE FROM %s WHERE tenant_id = $1', t.qname) USING b;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n <> 0 THEN
        failures := failures || format('%s: tenant A deleted %s rows of tenant B', t.qname, n);
      END IF;
      RAISE SQLSTATE 'P0099';
    EXCEPTION
      WHEN SQLSTATE 'P0099' THEN NULL;
      WHEN insufficient_privilege THEN
        IF has_table_privilege(t.oid, 'DELETE') THEN
          failures := failures || format('%s: DELETE refused unexpectedly: %s', t.qname, SQLERRM);
        END IF;
      WHEN OTHERS THEN
        failures := failures || format('%s: DELETE of B rows failed: %s %s', t.qname, SQLSTATE, SQLERRM);
    END;

    -- 3. INSERT a row for tenant B (copy of one of A's rows, tenant_id = B).
    SELECT string_agg(quote_ident(att.attname), ', ' ORDER BY att.attnum),
           string_agg(CASE WHEN att.attname = 'tenant_id' THEN '$1' ELSE quote_ident(att.attname) END,
                      ', ' ORDER BY att.attnum)
      INTO cols, sel
      FROM pg_catalog.pg_attribute att
     WHERE att.attrelid = t.oid AND att.attnum > 0 AND NOT att.attisdropped
       AND att.attgenerated = '' AND att.attidentity <> 'a';
    BEGIN
      EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %s LIMIT 1', t.qname, cols, sel, t.qname) USING b;
      GET DIAGNOSTICS n = ROW_COUNT;
      failures := failures || format('%s: tenant A inserted %s rows for tenant B', t.qname, n);
      RAISE SQLSTATE 'P0099';
    EXCEPTION
      WHEN SQLSTATE 'P0099' THEN NULL;
      WHEN insufficient_privilege THEN NULL;  -- 42501: "new row violates row-level security policy"
      WHEN OTHERS THEN
        failures := failures || format('%s: INSERT for B failed with %s instead of 42501: %s', t.qname, SQLSTATE, SQLERRM);
    END;

    -- 4. Move one of A's rows to tenant B.
    BEGIN
      EXECUTE format('UPDATE %s SET tenant_id = $1 WHERE ctid = (SELECT ctid FROM %s LIMIT 1)', t.qname, t.qname)
        USING b;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n <> 0 THEN
        failures := failures || format('%s: tenant A moved %s rows to tenant B', t.qname, n);
      ELSE
        failures := failures || format('%s: move probe found no row to move', t.qname);
      END IF;
      RAISE SQLSTATE 'P0099';
    EXCEPTION
      WHEN SQLSTATE 'P0099' THEN NULL;
      WHEN insufficient_privilege THEN NULL;
      WHEN OTHERS THEN
        failures := failures || format('%s: moving a row to B failed with %s instead of 42501: %s', t.qname, SQLSTATE, SQLERRM);
    END;
  END LOOP;

  IF checked = 0 THEN
    failures := failures || 'no tenant-scoped tables found'::text;
  END IF;

  -- public.tenants (RLS keyed on id)
  IF to_regclass('public.tenants') IS NOT NULL THEN
    SELECT count(*), count(*) FILTER (WHERE id = a) INTO n, n_own FROM public.tenants;
    IF n <> 1 OR n_own <> 1 THEN
      failures := failures || format('public.tenants: tenant A sees %s rows (%s own), expected exactly its own', n, n_own);
    END IF;
    BEGIN
      UPDATE public.tenants SET name = name WHERE id = b;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n <> 0 THEN
        failures := failures || 'public.tenants: tenant A updated tenant B'::text;
      END IF;
      DELETE FROM public.tenants WHERE id = b;
      GET DIAGNOSTICS n = ROW_COUNT;
      IF n <> 0 THEN
        failures := failures || 'public.tenants: tenant A deleted tenant B'::text;
      END IF;
      RAISE SQLSTATE 'P0099';
    EXCEPTION
      WHEN SQLSTATE 'P0099' THEN NULL;
      WHEN OTHERS THEN
        failures := failures || format('public.tenants: probe failed: %s %s', SQLSTATE, SQLERRM);
    END;
    BEGIN
      INSERT INTO public.tenants (id, name, slug) VALUES (gen_random_uuid(), 'Intruder', 'intruder-check');
      failures := failures || 'public.tenants: tenant A created another tenant'::text;
      RAISE SQLSTATE 'P0099';
    EXCEPTION
      WHEN SQLSTATE 'P0099' THEN NULL;
      WHEN insufficient_privilege THEN NULL;
      WHEN OTHERS THEN
        failures := failures || format('public.tenants: INSERT failed with %s instead of 42501: %s', SQLSTATE, SQLERRM);
    END;
  END IF;

  IF cardinality(failures) > 0 THEN
    RAISE EXCEPTION 'tenant isolation check failed (% problems):%', cardinality(failures),
      E'\n  ' || array_to_string(failures, E'\n  ');
  END IF;
  RAISE NOTICE 'tenant isolation check passed for % tenant-scoped tables (+ tenants)', checked;
END
$check$;
