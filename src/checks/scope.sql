-- Which relations pgboot's checks look at: the only definition. Used by the
-- tenancy check (src/checks/tenancy.rs), verify's row counts
-- (src/checks/verify.rs), the catalog snapshot (src/checks/catalog_snapshot.sql),
-- tests/it/schema.rs and the psql checks in tests/sql/ (check_schema.sh).
--
-- CTE definitions only, no leading WITH. A consumer's text starts at its
-- first own CTE and is composed as
--   WITH
--   <this file>
--   ,
--   <its own CTEs> SELECT ...
-- by src/checks/scope.rs (`with_scope`) and by tests/sql/check_schema.sh.
--
-- The history schema is written once, as the literal below marked
-- /* history schema */: pgboot substitutes the configured one (quoted); psql
-- runs this file as it is, with the default.
--
-- scope_namespaces  every schema except pg_catalog, information_schema,
--                   pg_toast, temp schemas and the history schema
-- scope_relations   every pg_class row in those schemas that is not an
--                   extension member (pg_depend deptype 'e'); qname is
--                   schema.name, quoted where needed
-- tenant_tables     the tenant-scoped tables: ordinary or partitioned tables
--                   (relkind r/p) of scope_relations with a (not dropped)
--                   column named tenant_id; attnum, atttypid, atttypmod and
--                   attnotnull are that column's
scope_namespaces AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl
    FROM pg_catalog.pg_namespace n
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgboot' /* history schema */)
     AND n.nspname !~ '^pg_(toast_)?temp_'
),
scope_relations AS (
  SELECT c.oid, c.relname, c.relnamespace, n.nspname,
         format('%I.%I', n.nspname, c.relname) AS qname,
         c.relkind, c.relowner, c.relacl, c.relrowsecurity, c.relforcerowsecurity,
         c.relpersistence, c.reloptions, c.relispartition, c.relpartbound, c.relispopulated
    FROM pg_catalog.pg_class c
    JOIN scope_namespaces n ON n.oid = c.relnamespace
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::regclass
                        AND d.objid = c.oid AND d.deptype = 'e')
),
tenant_tables AS (
  SELECT r.*, a.attnum, a.atttypid, a.atttypmod, a.attnotnull
    FROM scope_relations r
    JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
   WHERE r.relkind IN ('r', 'p')
)
