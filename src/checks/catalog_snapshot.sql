-- Catalog snapshot of the application schemas: one SELECT, one text column
-- ("line"), deterministic order. Used to prove that re-running the migrations
-- changes nothing (snapshot before == snapshot after), by `pgboot verify`.
-- Embedded with include_str! and run with the simple-query protocol: a single
-- statement, no psql meta-commands, no variables.
--
-- This file starts at its first own CTE: it runs composed after scope.sql
-- ("WITH <scope.sql>, <this file>"; src/checks/snapshot.rs `query`,
-- tests/sql/check_schema.sh), whose scope_namespaces and scope_relations say
-- which schemas and relations are in scope (not the system schemas, temp
-- schemas or the history schema). Objects that belong to an extension are
-- represented by the extension's name and version only: so are schemas that
-- belong to one.
-- No OIDs, no owner names (the owner shows as <owner> in ACLs), no data or
-- statistics: nothing that changes when an idempotent statement is merely
-- re-run. Definitions are rendered with pg_get_*def(), whose qualification of
-- names depends on search_path: compare snapshots taken with the same
-- search_path (the default one).
--
-- Line formats (the first word is the section):
--   schema <name> acl=<...>
--   extension <name> version=<v> schema=<s>
--   relation <schema.name> kind=<relkind> rls=<bool> force_rls=<bool> ...
--   column <schema.table> <attnum> <name> <type> [not null] [default ...] ...
--   constraint <schema.table|domain> <name> <pg_get_constraintdef>
--   index <schema.table> <name> <pg_get_indexdef> [invalid]
--   policy <schema.table> <name> cmd=.. permissive=.. roles=.. using=(..) check=(..)
--   trigger <schema.table> <name> enabled=<c> <pg_get_triggerdef>
--   rule <schema.table> <name> <pg_get_ruledef>
--   view <schema.name> <pg_get_viewdef, whitespace-normalized>
--   sequence <schema.name> type=.. start=.. ... owned_by=..
--   function <schema.name(args)> kind=.. md5=<md5(pg_get_functiondef)> acl=..
--   type <schema.name> ...            (enums, domains, free-standing composites)
--   statistics <schema.name> <pg_get_statisticsobjdef>
--   default_acl <role> <schema|*> <objtype> <acl>
--   comment <object> <text>
--   role <name> <attributes>          (roles granted something in scope)
nsp AS (
  SELECT n.oid, n.nspname, n.nspowner, n.nspacl
    FROM scope_namespaces n
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_namespace'::regclass
                        AND d.objid = n.oid AND d.deptype = 'e')
),
rel AS (
  SELECT r.oid, r.relkind, r.relowner, r.relacl, r.relrowsecurity, r.relforcerowsecurity,
         r.relpersistence, r.reloptions, r.relispartition, r.relpartbound, r.qname
    FROM scope_relations r
    JOIN nsp n ON n.oid = r.relnamespace
   WHERE r.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
),
fn AS (
  SELECT p.oid, p.prokind, p.proowner, p.proacl,
         format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) AS qname
    FROM pg_catalog.pg_proc p
    JOIN nsp n ON n.oid = p.pronamespace
   WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                        AND d.objid = p.oid AND d.deptype = 'e')
),
typ AS (
  SELECT t.oid, t.typtype, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefault, t.typrelid,
         t.typowner, t.typacl, format('%I.%I', n.nspname, t.typname) AS qname
    FROM pg_catalog.pg_type t
    JOIN nsp n ON n.oid = t.typnamespace
   WHERE (t.typtype IN ('e', 'd', 'r', 'm')
          OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                                           WHERE c.oid = t.typrelid AND c.relkind = 'c')))
     AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_type'::regclass
                        AND d.objid = t.oid AND d.deptype = 'e')
),
-- Every ACL in scope, exploded: (object, owner, grantee, privilege).
acl_items AS (
  SELECT 'schema' AS kind, n.nspname::text AS obj, n.nspowner AS owner, a.grantee, a.privilege_type, a.is_grantable
    FROM nsp n, LATERAL pg_catalog.aclexplode(n.nspacl) a
  UNION ALL
  SELECT 'relation', r.qname, r.relowner, a.grantee, a.privilege_type, a.is_grantable
    FROM rel r, LATERAL pg_catalog.aclexplode(r.relacl) a
  UNION ALL
  SELECT 'column', r.qname || '.' || quote_ident(att.attname), r.relowner, a.grantee, a.privilege_type, a.is_grantable
    FROM rel r
    JOIN pg_catalog.pg_attribute att ON att.attrelid = r.oid AND att.attnum > 0 AND NOT att.attisdropped,
         LATERAL pg_catalog.aclexplode(att.attacl) a
  UNION ALL
  SELECT 'function', f.qname, f.proowner, a.grantee, a.privilege_type, a.is_grantable
    FROM fn f, LATERAL pg_catalog.aclexplode(f.proacl) a
  UNION ALL
  SELECT 'type', t.qname, t.typowner, a.grantee, a.privilege_type, a.is_grantable
    FROM typ t, LATERAL pg_catalog.aclexplode(t.typacl) a
),
acl_text AS (
  SELECT kind, obj,
         string_agg(item, ',' ORDER BY item COLLATE "C") AS acl
    FROM (SELECT kind, obj,
                 CASE WHEN grantee = 0 THEN 'PUBLIC'
                      WHEN grantee = owner THEN '<owner>'
                      ELSE pg_catalog.pg_get_userbyid(grantee)::text END
                 || '=' || privilege_type || CASE WHEN is_grantable THEN '*' ELSE '' END AS item
            FROM acl_items) x
   GROUP BY kind, obj
),
lines AS (
  -- schemas
  SELECT format('schema %I acl=%s', n.nspname,
                coalesce((SELECT t.acl FROM acl_text t WHERE t.kind = 'schema' AND t.obj = n.nspname), 'default')) AS line
    FROM nsp n
  UNION ALL
  -- extensions (members are not listed individually)
  SELECT format('extension %I version=%s schema=%I', e.extname, e.extversion, n.nspname)
    FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
  UNION ALL
  -- relations: tables, partitioned tables, views, matviews, foreign tables, sequences
  SELECT format('relation %s kind=%s rls=%s force_rls=%s persistence=%s options=%s partition_of=%s bound=%s partkey=%s acl=%s',
                r.qname, r.relkind, r.relrowsecurity, r.relforcerowsecurity, r.relpersistence,
                coalesce(r.reloptions::text, '{}'),
                coalesce((SELECT format('%I.%I', pn.nspname, pc.relname)
                            FROM pg_catalog.pg_inherits i
                            JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
                            JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
                           WHERE i.inhrelid = r.oid AND r.relispartition), '-'),
                coalesce(pg_catalog.pg_get_expr(r.relpartbound, r.oid), '-'),
                CASE WHEN r.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(r.oid) ELSE '-' END,
                coalesce((SELECT t.acl FROM acl_text t WHERE t.kind = 'relation' AND t.obj = r.qname), 'default'))
    FROM rel r
  UNION ALL
  -- columns
  SELECT format('column %s %s %I %s%s%s%s%s%s%s',
                r.qname, lpad(a.attnum::text, 4, '0'), a.attname,
                pg_catalog.format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                CASE WHEN ad.adbin IS NOT NULL AND a.attgenerated = ''
                     THEN ' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) ELSE '' END,
                CASE WHEN a.attgenerated <> ''
                     THEN ' generated ' || a.attgenerated::text || ' ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) ELSE '' END,
                CASE WHEN a.attidentity <> '' THEN ' identity ' || a.attidentity::text ELSE '' END,
                CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation
                     THEN ' collate ' || (SELECT format('%I.%I', cn.nspname, co.collname)
                                            FROM pg_catalog.pg_collation co
                                            JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                                           WHERE co.oid = a.attcollation) ELSE '' END,
                CASE WHEN a.attstorage <> ty.typstorage THEN ' storage ' || a.attstorage::text ELSE '' END,
                coalesce(' acl=' || (SELECT t.acl FROM acl_text t
                                      WHERE t.kind = 'column' AND t.obj = r.qname || '.' || quote_ident(a.attname)), ''))
    FROM rel r
    JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
    LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   WHERE r.relkind <> 'S'
  UNION ALL
  -- table constraints
  SELECT format('constraint %s %I %s', r.qname, co.conname, pg_catalog.pg_get_constraintdef(co.oid, true))
    FROM rel r
    JOIN pg_catalog.pg_constraint co ON co.conrelid = r.oid
  UNION ALL
  -- domain constraints
  SELECT format('constraint %s %I %s', t.qname, co.conname, pg_catalog.pg_get_constraintdef(co.oid, true))
    FROM typ t
    JOIN pg_catalog.pg_constraint co ON co.contypid = t.oid
  UNION ALL
  -- indexes (including those backing constraints)
  SELECT format('index %s %I %s%s', r.qname, ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid),
                CASE WHEN i.indisvalid THEN '' ELSE ' invalid' END)
    FROM rel r
    JOIN pg_catalog.pg_index i ON i.indrelid = r.oid
    JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  UNION ALL
  -- row level security policies
  SELECT format('policy %s %I cmd=%s permissive=%s roles=%s using=%s check=%s',
                r.qname, p.polname, p.polcmd, p.polpermissive,
                (SELECT string_agg(CASE WHEN ro = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(ro)::text END,
                                   ',' ORDER BY CASE WHEN ro = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(ro)::text END COLLATE "C")
                   FROM unnest(p.polroles) AS ro),
                coalesce(pg_catalog.pg_get_expr(p.polqual, p.polrelid), '-'),
                coalesce(pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '-'))
    FROM rel r
    JOIN pg_catalog.pg_policy p ON p.polrelid = r.oid
  UNION ALL
  -- triggers (not the internal ones implementing foreign keys)
  SELECT format('trigger %s %I enabled=%s %s', r.qname, tg.tgname, tg.tgenabled, pg_catalog.pg_get_triggerdef(tg.oid))
    FROM rel r
    JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = r.oid
   WHERE NOT tg.tgisinternal
  UNION ALL
  -- rewrite rules other than the ones that implement views
  SELECT format('rule %s %I %s', r.qname, ru.rulename, pg_catalog.pg_get_ruledef(ru.oid))
    FROM rel r
    JOIN pg_catalog.pg_rewrite ru ON ru.ev_class = r.oid
   WHERE ru.rulename <> '_RETURN'
  UNION ALL
  -- views and materialized views
  SELECT format('view %s %s', r.qname,
                btrim(regexp_replace(pg_catalog.pg_get_viewdef(r.oid), '\s+', ' ', 'g')))
    FROM rel r
   WHERE r.relkind IN ('v', 'm')
  UNION ALL
  -- sequences (parameters only, never their current value)
  SELECT format('sequence %s type=%s start=%s increment=%s min=%s max=%s cache=%s cycle=%s owned_by=%s',
                r.qname, pg_catalog.format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
                s.seqmax, s.seqcache, s.seqcycle,
                coalesce((SELECT format('%I.%I.%I', dn.nspname, dc.relname, da.attname) || ' (' || d.deptype::text || ')'
                            FROM pg_catalog.pg_depend d
                            JOIN pg_catalog.pg_class dc ON dc.oid = d.refobjid
                            JOIN pg_catalog.pg_namespace dn ON dn.oid = dc.relnamespace
                            JOIN pg_catalog.pg_attribute da ON da.attrelid = d.refobjid AND da.attnum = d.refobjsubid
                           WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = r.oid
                             AND d.refclassid = 'pg_catalog.pg_class'::regclass
                             AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0), '-'))
    FROM rel r
    JOIN pg_catalog.pg_sequence s ON s.seqrelid = r.oid
  UNION ALL
  -- functions and procedures (full definition hashed), aggregates by signature
  SELECT format('function %s kind=%s md5=%s acl=%s', f.qname, f.prokind,
                CASE WHEN f.prokind IN ('f', 'p') THEN md5(pg_catalog.pg_get_functiondef(f.oid)) ELSE '-' END,
                coalesce((SELECT t.acl FROM acl_text t WHERE t.kind = 'function' AND t.obj = f.qname), 'default'))
    FROM fn f
  UNION ALL
  -- enums, domains, ranges, free-standing composite types
  SELECT format('type %s typtype=%s %s acl=%s', t.qname, t.typtype,
                CASE t.typtype
                  WHEN 'e' THEN 'labels=' || (SELECT string_agg(quote_literal(e.enumlabel), ',' ORDER BY e.enumsortorder)
                                                FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)
                  WHEN 'd' THEN 'base=' || pg_catalog.format_type(t.typbasetype, t.typtypmod)
                                || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                                || coalesce(' default ' || t.typdefault, '')
                  WHEN 'c' THEN 'attributes=' || (SELECT string_agg(quote_ident(a.attname) || ' '
                                                                    || pg_catalog.format_type(a.atttypid, a.atttypmod),
                                                                    ', ' ORDER BY a.attnum)
                                                    FROM pg_catalog.pg_attribute a
                                                   WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
                  ELSE '-'
                END,
                coalesce((SELECT x.acl FROM acl_text x WHERE x.kind = 'type' AND x.obj = t.qname), 'default'))
    FROM typ t
  UNION ALL
  -- extended statistics
  SELECT format('statistics %I.%I %s', n.nspname, se.stxname, pg_catalog.pg_get_statisticsobjdef(se.oid))
    FROM pg_catalog.pg_statistic_ext se
    JOIN nsp n ON n.oid = se.stxnamespace
  UNION ALL
  -- default privileges (ALTER DEFAULT PRIVILEGES)
  SELECT format('default_acl %s %s %s %s',
                pg_catalog.pg_get_userbyid(da.defaclrole),
                coalesce((SELECT quote_ident(n.nspname) FROM pg_catalog.pg_namespace n WHERE n.oid = da.defaclnamespace), '*'),
                da.defaclobjtype,
                (SELECT string_agg(x, ',' ORDER BY x COLLATE "C")
                   FROM (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(a.grantee)::text END
                                || '=' || a.privilege_type || CASE WHEN a.is_grantable THEN '*' ELSE '' END AS x
                           FROM pg_catalog.aclexplode(da.defaclacl) a) s))
    FROM pg_catalog.pg_default_acl da
   WHERE da.defaclnamespace = 0 OR da.defaclnamespace IN (SELECT oid FROM nsp)
  UNION ALL
  -- comments on schemas, relations, columns, functions, types
  SELECT format('comment schema %I %s', n.nspname, quote_literal(d.description))
    FROM nsp n
    JOIN pg_catalog.pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_catalog.pg_namespace'::regclass
  UNION ALL
  SELECT format('comment %s%s %s', r.qname,
                CASE WHEN d.objsubid = 0 THEN ''
                     ELSE '.' || quote_ident((SELECT a.attname FROM pg_catalog.pg_attribute a
                                               WHERE a.attrelid = r.oid AND a.attnum = d.objsubid)) END,
                quote_literal(d.description))
    FROM rel r
    JOIN pg_catalog.pg_description d ON d.objoid = r.oid AND d.classoid = 'pg_catalog.pg_class'::regclass
  UNION ALL
  SELECT format('comment %s %s', f.qname, quote_literal(d.description))
    FROM fn f
    JOIN pg_catalog.pg_description d ON d.objoid = f.oid AND d.classoid = 'pg_catalog.pg_proc'::regclass
  UNION ALL
  SELECT format('comment %s %s', t.qname, quote_literal(d.description))
    FROM typ t
    JOIN pg_catalog.pg_description d ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::regclass
  UNION ALL
  -- attributes of the roles that hold privileges in scope (not owners)
  SELECT format('role %s super=%s inherit=%s createrole=%s createdb=%s login=%s replication=%s bypassrls=%s',
                quote_ident(ro.rolname), ro.rolsuper, ro.rolinherit, ro.rolcreaterole, ro.rolcreatedb,
                ro.rolcanlogin, ro.rolreplication, ro.rolbypassrls)
    FROM pg_catalog.pg_roles ro
   WHERE ro.oid IN (SELECT grantee FROM acl_items WHERE grantee <> 0 AND grantee <> owner)
)
SELECT line FROM lines ORDER BY line COLLATE "C";
