/**
 * Performance Optimization Migration
 * Composite indexes (all leading with tenant_id, so they serve the RLS
 * predicate and the query's own filter at once) for the hot list/filter
 * queries; the shared set_updated_at() trigger on every table that has an
 * updated_at column; per-tenant contact and deal statistics as materialized
 * views in the "reporting" schema plus refresh_tenant_stats().
 * Created: 2025-11-25
 *
 * Notes:
 *  - Plain CREATE INDEX (not CONCURRENTLY): the runner applies each file in a
 *    transaction. On an already large production database, pre-create the
 *    indexes CONCURRENTLY by hand with the same names; IF NOT EXISTS then
 *    makes this file a no-op for them.
 *  - Materialized views do not apply row level security. They live in the
 *    separate schema "reporting" on which clientforge_app has no USAGE, and
 *    nothing in it is granted to the app; the application reads tenant stats
 *    through a back-office/reporting role that may see all tenants. The views
 *    are computed as their owner: the owner (the migration role) must be a
 *    superuser or BYPASSRLS, otherwise FORCE ROW LEVEL SECURITY makes the
 *    stats empty.
 *  - Tables created by later migrations attach set_updated_at themselves.
 */

-- ---------------------------------------------------------------------------
-- Hot-path composite indexes
-- ---------------------------------------------------------------------------

-- Contacts list sorted by name, email lookup / dedupe, filter by status.
CREATE INDEX IF NOT EXISTS contacts_tenant_id_last_name_first_name_idx
  ON public.contacts (tenant_id, last_name, first_name) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS contacts_tenant_id_email_idx
  ON public.contacts (tenant_id, email) WHERE deleted_at IS NULL AND email IS NOT NULL;
CREATE INDEX IF NOT EXISTS contacts_tenant_id_status_created_at_idx
  ON public.contacts (tenant_id, status, created_at DESC) WHERE deleted_at IS NULL;

-- Accounts list by name, lookup by domain.
CREATE INDEX IF NOT EXISTS accounts_tenant_id_name_idx
  ON public.accounts (tenant_id, name) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS accounts_tenant_id_domain_idx
  ON public.accounts (tenant_id, domain) WHERE deleted_at IS NULL AND domain IS NOT NULL;

-- Deal board (by stage), deal lists by status, forecast by close date,
-- "my deals".
CREATE INDEX IF NOT EXISTS deals_tenant_id_stage_id_status_idx
  ON public.deals (tenant_id, stage_id, status) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS deals_tenant_id_status_expected_close_date_idx
  ON public.deals (tenant_id, status, expected_close_date) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS deals_tenant_id_owner_id_status_idx
  ON public.deals (tenant_id, owner_id, status) WHERE deleted_at IS NULL;

-- "My open tasks by due date": only open tasks are indexed.
CREATE INDEX IF NOT EXISTS tasks_tenant_id_assigned_to_due_at_open_idx
  ON public.tasks (tenant_id, assigned_to, due_at)
  WHERE status IN ('todo', 'in_progress') AND deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS tasks_tenant_id_created_by_idx
  ON public.tasks (tenant_id, created_by) WHERE created_by IS NOT NULL;

-- Activity timelines of a contact / deal / account, and per user.
CREATE INDEX IF NOT EXISTS activities_tenant_id_contact_id_occurred_at_idx
  ON public.activities (tenant_id, contact_id, occurred_at DESC) WHERE contact_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_tenant_id_deal_id_occurred_at_idx
  ON public.activities (tenant_id, deal_id, occurred_at DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_tenant_id_account_id_occurred_at_idx
  ON public.activities (tenant_id, account_id, occurred_at DESC) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_tenant_id_user_id_occurred_at_idx
  ON public.activities (tenant_id, user_id, occurred_at DESC) WHERE user_id IS NOT NULL;

-- User directory, sessions of a user that are still usable.
CREATE INDEX IF NOT EXISTS users_tenant_id_status_idx
  ON public.users (tenant_id, status) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS sessions_tenant_id_user_id_live_idx
  ON public.sessions (tenant_id, user_id, expires_at) WHERE revoked_at IS NULL;

-- Notes / comments authored by a user (also supports the user FKs).
CREATE INDEX IF NOT EXISTS notes_tenant_id_created_by_idx
  ON public.notes (tenant_id, created_by) WHERE created_by IS NOT NULL;
CREATE INDEX IF NOT EXISTS comments_tenant_id_created_by_idx
  ON public.comments (tenant_id, created_by) WHERE created_by IS NOT NULL;

-- ---------------------------------------------------------------------------
-- updated_at maintenance
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION public.set_updated_at()
  RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
COMMENT ON FUNCTION public.set_updated_at() IS
  'BEFORE UPDATE row trigger: stamps updated_at with the transaction timestamp.';

-- Attach to every ordinary/partitioned table in public that has an
-- updated_at column (found from the catalog). Existing triggers are left
-- alone, so a re-run takes no locks on tables that are already set up
-- (PG13 has no CREATE OR REPLACE TRIGGER).
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid::regclass AS tbl
      FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
     WHERE n.nspname = 'public'
       AND c.relkind IN ('r', 'p')
       AND NOT c.relispartition
       AND a.attname = 'updated_at'
       AND NOT a.attisdropped
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                        WHERE d.classid = 'pg_catalog.pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg
                        WHERE tg.tgrelid = c.oid AND tg.tgname = 'set_updated_at')
     ORDER BY c.relname
  LOOP
    EXECUTE format(
      'CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s'
      ' FOR EACH ROW EXECUTE FUNCTION public.set_updated_at()', r.tbl);
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Reporting: per-tenant statistics (materialized views, no RLS)
-- ---------------------------------------------------------------------------

CREATE SCHEMA IF NOT EXISTS reporting;
REVOKE ALL ON SCHEMA reporting FROM PUBLIC;
COMMENT ON SCHEMA reporting IS
  'Cross-tenant materialized views. Materialized views bypass RLS: never grant this schema to clientforge_app.';

CREATE MATERIALIZED VIEW IF NOT EXISTS reporting.tenant_contact_stats AS
SELECT c.tenant_id,
       count(*)                                                        AS total_contacts,
       count(*) FILTER (WHERE c.status = 'lead')                       AS leads,
       count(*) FILTER (WHERE c.status = 'prospect')                   AS prospects,
       count(*) FILTER (WHERE c.status = 'customer')                   AS customers,
       count(*) FILTER (WHERE c.status IN ('inactive', 'churned'))     AS inactive_contacts,
       count(*) FILTER (WHERE c.email IS NOT NULL)                     AS with_email,
       count(*) FILTER (WHERE c.account_id IS NOT NULL)                AS with_account,
       count(*) FILTER (WHERE c.created_at >= now() - interval '30 days') AS created_last_30_days,
       max(c.created_at)                                               AS last_created_at,
       now()                                                           AS refreshed_at
  FROM public.contacts c
 WHERE c.deleted_at IS NULL
 GROUP BY c.tenant_id
WITH DATA;

CREATE UNIQUE INDEX IF NOT EXISTS tenant_contact_stats_tenant_id_key
  ON reporting.tenant_contact_stats (tenant_id);

-- Money is only summed within one currency: one row per (tenant, currency).
CREATE MATERIALIZED VIEW IF NOT EXISTS reporting.tenant_deal_stats AS
SELECT d.tenant_id,
       d.currency,
       count(*)                                              AS total_deals,
       count(*) FILTER (WHERE d.status = 'open')             AS open_deals,
       count(*) FILTER (WHERE d.status = 'won')              AS won_deals,
       count(*) FILTER (WHERE d.status = 'lost')             AS lost_deals,
       coalesce(sum(d.amount) FILTER (WHERE d.status = 'open'), 0) AS open_amount,
       coalesce(sum(d.amount * coalesce(d.probability, s.probability) / 100)
                  FILTER (WHERE d.status = 'open'), 0)::numeric(17,2) AS weighted_open_amount,
       coalesce(sum(d.amount) FILTER (WHERE d.status = 'won'), 0)  AS won_amount,
       avg(d.amount) FILTER (WHERE d.status = 'won')::numeric(15,2) AS avg_won_amount,
       CASE WHEN count(*) FILTER (WHERE d.status IN ('won', 'lost')) = 0 THEN NULL
            ELSE round(count(*) FILTER (WHERE d.status = 'won')::numeric
                       / count(*) FILTER (WHERE d.status IN ('won', 'lost')), 4)
       END                                                   AS win_rate,
       now()                                                 AS refreshed_at
  FROM public.deals d
  JOIN public.pipeline_stages s ON s.id = d.stage_id
 WHERE d.deleted_at IS NULL
 GROUP BY d.tenant_id, d.currency
WITH DATA;

CREATE UNIQUE INDEX IF NOT EXISTS tenant_deal_stats_tenant_id_currency_key
  ON reporting.tenant_deal_stats (tenant_id, currency);

-- Refreshes both views. CONCURRENTLY (readers are not blocked) once a view
-- is populated; a plain refresh the first time (CONCURRENTLY is refused on an
-- unpopulated view). Must be run by the views' owner, e.g. from a scheduled
-- job; not executable by PUBLIC.
CREATE OR REPLACE FUNCTION public.refresh_tenant_stats()
  RETURNS void
  LANGUAGE plpgsql
  SECURITY INVOKER
  SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  v regclass;
BEGIN
  FOREACH v IN ARRAY ARRAY['reporting.tenant_contact_stats'::regclass,
                           'reporting.tenant_deal_stats'::regclass] LOOP
    IF (SELECT c.relispopulated FROM pg_catalog.pg_class c WHERE c.oid = v) THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', v);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %s', v);
    END IF;
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION public.refresh_tenant_stats() FROM PUBLIC;

-- Fresh statistics for the planner on the tables that got new indexes.
-- (ANALYZE, not VACUUM: it runs inside the migration's transaction.)
ANALYZE public.contacts, public.accounts, public.deals, public.tasks,
        public.activities, public.users, public.sessions, public.notes, public.comments;

SELECT 'Performance optimization migration complete!' AS status;
