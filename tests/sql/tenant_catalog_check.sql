-- Static tenancy rules, checked from the catalog. One SELECT; every returned
-- row is a violation ("<object> <problem>"); no rows = pass.
--
-- Tenant-scoped table = tenant_tables of src/checks/scope.sql (every
-- ordinary or partitioned table in scope with a column named tenant_id);
-- relations in scope = its scope_relations. This file starts at its first own
-- CTE: it runs composed after scope.sql ("WITH <scope.sql>, <this file>";
-- check_schema.sh). Each tenant-scoped table must have:
--   - tenant_id uuid NOT NULL, FK (tenant_id) -> public.tenants(id) ON DELETE CASCADE;
--   - an index whose first column is tenant_id;
--   - ROW LEVEL SECURITY enabled and forced;
--   - a policy tenant_isolation, FOR ALL, TO PUBLIC, whose USING and WITH
--     CHECK are both exactly the canonical tenant expression, and no other
--     PERMISSIVE policy (permissive policies are OR-ed together);
--   - SELECT and INSERT granted to clientforge_app.
-- Also: every table with an updated_at column has the set_updated_at trigger;
-- clientforge_app holds no TRUNCATE / REFERENCES / TRIGGER privilege anywhere;
-- clientforge_app is not superuser/BYPASSRLS, owns nothing and cannot read
-- any view or materialized view that exposes a tenant_id column (those do not
-- apply RLS).
canonical AS (
  SELECT '(tenant_id = (NULLIF(current_setting(''app.current_tenant_id''::text, true), ''''::text))::uuid)'::text AS expr
),
app AS (
  SELECT oid, rolname, rolsuper, rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = 'clientforge_app'
),
violations AS (
  SELECT 'clientforge_app missing' AS v
   WHERE NOT EXISTS (SELECT 1 FROM app)
  UNION ALL
  SELECT 'clientforge_app is superuser or bypassrls' FROM app WHERE rolsuper OR rolbypassrls
  UNION ALL
  SELECT r.qname || ' owned by clientforge_app' FROM scope_relations r JOIN app ON app.oid = r.relowner
  UNION ALL
  SELECT 'no tenant-scoped tables found' WHERE NOT EXISTS (SELECT 1 FROM tenant_tables)
  UNION ALL
  SELECT t.qname || ' tenant_id is not uuid' FROM tenant_tables t WHERE t.atttypid <> 'pg_catalog.uuid'::regtype
  UNION ALL
  SELECT t.qname || ' tenant_id is nullable' FROM tenant_tables t WHERE NOT t.attnotnull
  UNION ALL
  SELECT t.qname || ' has no FK (tenant_id) -> public.tenants(id) ON DELETE CASCADE'
    FROM tenant_tables t
   WHERE NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_constraint co
            WHERE co.conrelid = t.oid AND co.contype = 'f'
              AND co.conkey = ARRAY[t.attnum]
              AND co.confrelid = to_regclass('public.tenants')
              AND co.confkey = ARRAY[(SELECT a.attnum FROM pg_catalog.pg_attribute a
                                       WHERE a.attrelid = to_regclass('public.tenants') AND a.attname = 'id')]
              AND co.confdeltype = 'c')
  UNION ALL
  SELECT t.qname || ' has no index leading with tenant_id'
    FROM tenant_tables t
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_index i
                      WHERE i.indrelid = t.oid AND i.indkey[0] = t.attnum AND i.indisvalid)
  UNION ALL
  SELECT t.qname || ' row level security not enabled' FROM tenant_tables t WHERE NOT t.relrowsecurity
  UNION ALL
  SELECT t.qname || ' row level security not forced' FROM tenant_tables t WHERE NOT t.relforcerowsecurity
  UNION ALL
  SELECT t.qname || ' has no correct tenant_isolation policy'
    FROM tenant_tables t, canonical c
   WHERE NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_policy p
            WHERE p.polrelid = t.oid AND p.polname = 'tenant_isolation'
              AND p.polcmd = '*' AND p.polpermissive AND p.polroles = '{0}'::oid[]
              AND pg_catalog.pg_get_expr(p.polqual, p.polrelid) = c.expr
              AND pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) = c.expr)
  UNION ALL
  SELECT t.qname || ' has extra permissive policy ' || quote_ident(p.polname)
    FROM tenant_tables t
    JOIN pg_catalog.pg_policy p ON p.polrelid = t.oid
   WHERE p.polpermissive AND p.polname <> 'tenant_isolation'
  UNION ALL
  SELECT t.qname || ' not readable/insertable by clientforge_app'
    FROM tenant_tables t, app
   WHERE NOT has_table_privilege(app.oid, t.oid, 'SELECT')
      OR NOT has_table_privilege(app.oid, t.oid, 'INSERT')
  UNION ALL
  SELECT r.qname || ' grants ' || priv || ' to clientforge_app (TRUNCATE bypasses RLS; the app needs none of these)'
    FROM scope_relations r, app, unnest(ARRAY['TRUNCATE', 'REFERENCES', 'TRIGGER']) AS priv
   WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f')
     AND has_table_privilege(app.oid, r.oid, priv)
  UNION ALL
  SELECT r.qname || ' (view with tenant_id, no RLS) is readable by clientforge_app'
    FROM scope_relations r, app
   WHERE r.relkind IN ('v', 'm')
     AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = r.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
     AND has_table_privilege(app.oid, r.oid, 'SELECT')
  UNION ALL
  SELECT r.qname || ' has updated_at but no set_updated_at trigger'
    FROM scope_relations r
   WHERE r.relkind IN ('r', 'p')
     AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                  WHERE a.attrelid = r.oid AND a.attname = 'updated_at' AND NOT a.attisdropped)
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg
                      WHERE tg.tgrelid = r.oid AND tg.tgname = 'set_updated_at' AND NOT tg.tgisinternal
                        AND tg.tgenabled <> 'D')
)
SELECT v AS violation FROM violations ORDER BY v COLLATE "C";
