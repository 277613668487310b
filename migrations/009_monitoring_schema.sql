/**
 * Monitoring Schema Migration
 * Performance monitoring and observability in the "monitoring" schema:
 *  - monitoring.query_performance_log: written by the backend's query tracker
 *    (backend/database/postgresql/query-tracker.ts) for queries over its
 *    threshold;
 *  - monitoring.slow_queries: aggregates of that log;
 *  - monitoring.table_usage / monitoring.index_usage: views over
 *    pg_stat_user_tables / pg_stat_user_indexes;
 *  - monitoring.statement_stats: view over pg_stat_statements, created only
 *    when the extension is available and can be installed.
 * Created: 2025-11-25
 *
 * Notes:
 *  - The log is not tenant-scoped (no tenant_id column, no RLS): it holds
 *    normalized query text and timings, never parameter values. Tenant
 *    attribution, if wanted, goes in the free-form "context" jsonb.
 *  - clientforge_app may only INSERT into the log (USAGE on the schema). The
 *    views are for operators: they are not granted to the app (they expose
 *    cluster-wide statistics and SQL text).
 *  - pg_stat_statements: CREATE EXTENSION works without
 *    shared_preload_libraries, but reading the view then fails; the view is
 *    created but never queried here. Missing package or insufficient
 *    privilege only produce a NOTICE; this migration never fails for it.
 */

CREATE SCHEMA IF NOT EXISTS monitoring;
REVOKE ALL ON SCHEMA monitoring FROM PUBLIC;
GRANT USAGE ON SCHEMA monitoring TO clientforge_app;

CREATE TABLE IF NOT EXISTS monitoring.query_performance_log (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  query_hash    text        NOT NULL CHECK (length(query_hash) BETWEEN 1 AND 128),
  query_text    text        NOT NULL CHECK (length(query_text) <= 10000),
  query_name    text        CHECK (length(query_name) <= 200),
  duration_ms   numeric(12,3) NOT NULL CHECK (duration_ms >= 0),
  rows_affected bigint      CHECK (rows_affected >= 0),
  source        text        CHECK (length(source) <= 200),
  context       jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(context) = 'object'),
  recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS query_performance_log_recorded_at_idx
  ON monitoring.query_performance_log (recorded_at);
CREATE INDEX IF NOT EXISTS query_performance_log_query_hash_recorded_at_idx
  ON monitoring.query_performance_log (query_hash, recorded_at DESC);

-- Slowest logged queries over the last 24 hours, grouped by normalized query.
CREATE OR REPLACE VIEW monitoring.slow_queries AS
SELECT l.query_hash,
       min(l.query_text)                                                     AS query_text,
       min(l.query_name)                                                     AS query_name,
       count(*)                                                              AS calls,
       round(avg(l.duration_ms), 3)                                          AS avg_ms,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY l.duration_ms)::numeric, 3) AS p95_ms,
       max(l.duration_ms)                                                    AS max_ms,
       sum(l.duration_ms)                                                    AS total_ms,
       max(l.recorded_at)                                                    AS last_seen_at
  FROM monitoring.query_performance_log l
 WHERE l.recorded_at >= now() - interval '24 hours'
 GROUP BY l.query_hash;

CREATE OR REPLACE VIEW monitoring.table_usage AS
SELECT s.schemaname,
       s.relname,
       s.seq_scan,
       s.seq_tup_read,
       s.idx_scan,
       CASE WHEN coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0) = 0 THEN NULL
            ELSE round(100.0 * coalesce(s.idx_scan, 0) / (coalesce(s.seq_scan, 0) + coalesce(s.idx_scan, 0)), 2)
       END                                          AS idx_scan_pct,
       s.n_tup_ins,
       s.n_tup_upd,
       s.n_tup_hot_upd,
       s.n_tup_del,
       s.n_live_tup,
       s.n_dead_tup,
       CASE WHEN s.n_live_tup + s.n_dead_tup = 0 THEN NULL
            ELSE round(100.0 * s.n_dead_tup / (s.n_live_tup + s.n_dead_tup), 2)
       END                                          AS dead_tup_pct,
       pg_catalog.pg_total_relation_size(s.relid)   AS total_bytes,
       s.last_vacuum,
       s.last_autovacuum,
       s.last_analyze,
       s.last_autoanalyze
  FROM pg_catalog.pg_stat_user_tables s;

CREATE OR REPLACE VIEW monitoring.index_usage AS
SELECT s.schemaname,
       s.relname                                    AS table_name,
       s.indexrelname                               AS index_name,
       s.idx_scan,
       s.idx_tup_read,
       s.idx_tup_fetch,
       pg_catalog.pg_relation_size(s.indexrelid)    AS index_bytes,
       i.indisunique                                AS is_unique,
       i.indisprimary                               AS is_primary,
       (s.idx_scan = 0 AND NOT i.indisunique)       AS unused
  FROM pg_catalog.pg_stat_user_indexes s
  JOIN pg_catalog.pg_index i ON i.indexrelid = s.indexrelid;

-- pg_stat_statements, only where available. Everything is dynamic SQL so the
-- file parses and runs on servers without the extension.
DO $$
DECLARE
  ext_schema name;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements') THEN
    RAISE NOTICE 'pg_stat_statements is not available; monitoring.statement_stats not created';
    RETURN;
  END IF;

  BEGIN
    EXECUTE 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'not allowed to create extension pg_stat_statements (%); monitoring.statement_stats not created', SQLERRM;
    RETURN;
  END;

  SELECT n.nspname INTO ext_schema
    FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
   WHERE e.extname = 'pg_stat_statements';

  -- Column names as of pg_stat_statements 1.8 (PostgreSQL 13+). The view is
  -- not queried here: without shared_preload_libraries it would raise.
  EXECUTE format($v$
    CREATE OR REPLACE VIEW monitoring.statement_stats AS
    SELECT s.queryid,
           s.userid::regrole::text   AS role_name,
           s.dbid,
           s.calls,
           round(s.total_exec_time::numeric, 3) AS total_exec_ms,
           round(s.mean_exec_time::numeric, 3)  AS mean_exec_ms,
           round(s.max_exec_time::numeric, 3)   AS max_exec_ms,
           s.rows,
           s.shared_blks_hit,
           s.shared_blks_read,
           s.temp_blks_written,
           s.query
      FROM %I.pg_stat_statements s
     WHERE s.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
                      WHERE d.datname = pg_catalog.current_database())
  $v$, ext_schema);
END
$$;

GRANT INSERT ON TABLE monitoring.query_performance_log TO clientforge_app;

SELECT 'Monitoring schema migration complete!' AS status;
