-- Row counts per tenant for every tenant-scoped table (tenant_tables of
-- src/checks/scope.sql), as one SELECT: "<table> <tenant_id>=<rows>,...".
-- Tables without rows show "<table> -". Run as a superuser (or another
-- BYPASSRLS role): FORCE ROW LEVEL SECURITY hides rows even from the table
-- owner. Used to check that the fixtures covered every table for both
-- tenants, that the isolation probes changed nothing, and that deleting a
-- tenant removed all of its rows.
-- Starts at its first own CTE: runs composed after scope.sql
-- ("WITH <scope.sql>, <this file>"; check_schema.sh, tests/it/schema.rs).
tenant_row_counts AS (
  SELECT t.qname, t.qname || ' ' || coalesce(
           (xpath('/row/s/text()',
                  query_to_xml(format('SELECT string_agg(tenant_id::text || ''='' || n, '','' ORDER BY tenant_id) AS s
                                         FROM (SELECT tenant_id, count(*) AS n FROM %s GROUP BY tenant_id) x', t.qname),
                               false, true, '')))[1]::text,
           '-') AS line
    FROM tenant_tables t
)
SELECT line FROM tenant_row_counts ORDER BY qname COLLATE "C";
