-- Row counts per tenant for every tenant-scoped table (same definition as
-- tenant_catalog_check.sql), as one SELECT: "<table> <tenant_id>=<rows>,...".
-- Tables without rows show "<table> -". Run as a superuser (or another
-- BYPASSRLS role): FORCE ROW LEVEL SECURITY hides rows even from the table
-- owner. Used to check that the fixtures covered every table for both
-- tenants, that the isolation probes changed nothing, and that deleting a
-- tenant removed all of its rows.
WITH tenant_tables AS (
  SELECT format('%I.%I', n.nspname, c.relname) AS qname
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
   WHERE c.relkind IN ('r', 'p')
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pgboot')
     AND n.nspname !~ '^pg_(toast_)?temp_'
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_class'::regclass
                        AND d.objid = c.oid AND d.deptype = 'e')
)
SELECT t.qname || ' ' || coalesce(
         (xpath('/row/s/text()',
                query_to_xml(format('SELECT string_agg(tenant_id::text || ''='' || n, '','' ORDER BY tenant_id) AS s
                                       FROM (SELECT tenant_id, count(*) AS n FROM %s GROUP BY tenant_id) x', t.qname),
                             false, true, '')))[1]::text,
         '-') AS line
  FROM tenant_tables t
 ORDER BY t.qname COLLATE "C";
