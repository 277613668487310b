-- The catalog's shape: a cheap subset of catalog_snapshot.sql, taken after every
-- file by `verify` (its second run) and `baseline --detect` (its replay), where
-- the full snapshot (about 60 ms on 130 tables, most of it pg_get_*def) would be
-- taken hundreds of times.
--
-- Every line is a function of what the full snapshot shows, with the same
-- scope (scope.sql in front, the history schema and extension members left
-- out): two catalogs with equal snapshots have equal shapes. The converse does
-- not hold (definitions, defaults, ACLs and comments are not here), so a shape
-- that matches only nominates a point where the full snapshot is compared.
--
-- Line formats:
--   schema <name>
--   extension <name> <version>
--   relation <schema.name> <relkind>
--   column <schema.table> <name> <type>[ not null]
--   constraint <schema.table> <name> <contype>
--   index <schema.table> <name>
--   policy <schema.table> <name>
--   trigger <schema.table> <name>
--   function <schema.name(args)> <prokind>
--   type <schema.name> <typtype>
nsp AS (
  SELECT n.oid, n.nspname
    FROM scope_namespaces n
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_namespace'::regclass
                        AND d.objid = n.oid AND d.deptype = 'e')
),
rel AS (
  SELECT r.oid, r.relkind, r.qname
    FROM scope_relations r
    JOIN nsp n ON n.oid = r.relnamespace
   WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
),
lines AS (
  SELECT format('schema %I', n.nspname) AS line FROM nsp n
  UNION ALL
  SELECT format('extension %I %s', e.extname, e.extversion) FROM pg_catalog.pg_extension e
  UNION ALL
  SELECT format('relation %s %s', r.qname, r.relkind) FROM rel r
  UNION ALL
  SELECT format('column %s %I %s%s', r.qname, a.attname,
                pg_catalog.format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN ' not null' ELSE '' END)
    FROM rel r
    JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
   WHERE r.relkind <> 'S'
  UNION ALL
  SELECT format('constraint %s %I %s', r.qname, co.conname, co.contype)
    FROM rel r
    JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
  UNION ALL
  SELECT format('index %s %I', r.qname, ic.relname)
    FROM rel r
    JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  UNION ALL
  SELECT format('policy %s %I', r.qname, p.polname)
    FROM rel r
    JOIN pg_catalog.pg_policy p ON p.polrelid = r.oid
  UNION ALL
  SELECT format('trigger %s %I', r.qname, tg.tgname)
    FROM rel r
    JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = r.oid
   WHERE NOT tg.tgisinternal
  UNION ALL
  SELECT format('function %I.%I(%s) %s', n.nspname, p.proname,
                pg_catalog.pg_get_function_identity_arguments(p.oid), p.prokind)
    FROM pg_catalog.pg_proc p
    JOIN nsp n ON n.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                        AND d.objid = p.oid AND d.deptype = 'e')
  UNION ALL
  SELECT format('type %I.%I %s', n.nspname, t.typname, t.typtype)
    FROM pg_catalog.pg_type t
    JOIN nsp n ON n.oid = t.typnamespace
   WHERE (t.typtype IN ('e', 'd', 'r', 'm')
          OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                           WHERE c.oid = t.typrelid AND c.relkind = 'c')))
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_type'::regclass
                        AND d.objid = t.oid AND d.deptype = 'e')
)
SELECT line FROM lines ORDER BY line COLLATE "C";
