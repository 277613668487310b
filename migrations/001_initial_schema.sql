/**
 * Initial Schema Migration
 * Core multi-tenant schema for ClientForge CRM: tenancy, identity & access
 * (users, roles, permissions, sessions, audit log), CRM core (accounts,
 * contacts), deals & pipelines, tasks & activities, notes / comments / tags /
 * custom fields, subscriptions (global plans + tenant subscriptions) and
 * per-tenant AI integration settings. Numbers 003-007 are folded into this
 * file (see database README).
 * Created: 2025-11-25
 *
 * Conventions used throughout (001-011):
 *  - Every object is schema-qualified (public.*) so the result does not depend
 *    on the runner's search_path. Every statement is idempotent; the file runs
 *    inside one transaction (pgboot wraps it in BEGIN/COMMIT) or via psql -f.
 *  - Keys are uuid DEFAULT gen_random_uuid() (core function since PG13), times
 *    are timestamptz, money is numeric(p,2) + an ISO-4217 currency code,
 *    enumerations are text + CHECK (cheap to extend, unlike enum types).
 *  - Emails are citext; uniqueness is per tenant and ignores soft-deleted rows.
 *
 * Tenancy design:
 *  - Every tenant-scoped table has
 *      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
 *    an index whose first column is tenant_id, ENABLE + FORCE ROW LEVEL
 *    SECURITY, and exactly one policy, "tenant_isolation", always created by
 *    public.enable_tenant_isolation(table) (defined below, used by every
 *    migration; it also refuses tables that break the rules above):
 *      USING      (tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)
 *      WITH CHECK (same expression)
 *    The app sets the tenant per transaction, in the same transaction as its
 *    queries:  SELECT set_config('app.current_tenant_id', $1, true);
 *    (or SET LOCAL app.current_tenant_id = '<uuid>'). is_local = true means it
 *    can never leak to the next user of a pooled connection. Unset or empty
 *    setting => NULL => the session sees no rows and cannot write any (no
 *    error). The policy applies to every role (TO PUBLIC); only superusers and
 *    BYPASSRLS roles (maintenance jobs, never the app) see across tenants.
 *  - Intra-tenant references are COMPOSITE foreign keys
 *      (tenant_id, x_id) REFERENCES parent (tenant_id, id)
 *    backed by UNIQUE (tenant_id, id) on the parent. RLS only checks the row
 *    being written; FK checks bypass RLS, so a simple FK would let tenant A
 *    point a row at tenant B's parent if it knew the uuid. The composite key
 *    makes cross-tenant references impossible by construction.
 *  - tenants itself has no tenant_id: it gets RLS keyed on its own id (a
 *    tenant can see/update only its own row; a signup flow creates a tenant
 *    after setting app.current_tenant_id to the new id). Resolving a tenant
 *    from its slug before a tenant is known goes through
 *    public.resolve_tenant_id(slug), a SECURITY DEFINER function that only
 *    returns the id of an active tenant (its owner must be a superuser or
 *    BYPASSRLS role, which the migration role normally is).
 *  - Global (not tenant-scoped) tables: permissions, plans. The app may only
 *    read them.
 *
 * ON DELETE policy:
 *  - tenant_id -> tenants: CASCADE (tenant offboarding removes everything).
 *  - Composition (stages of a pipeline, role/permission and user/role links,
 *    sessions of a user, tag links of a tag, values of a custom field, replies
 *    of a comment): CASCADE.
 *  - References between business entities and to users (owner, assignee,
 *    account of a contact, stage of a deal, ...): NO ACTION. Business rows and
 *    users are soft-deleted (deleted_at / status); a hard delete that would
 *    orphan rows is refused until the app reassigns or detaches them. (PG15's
 *    ON DELETE SET NULL (col) cannot be used: we support PG13, and a plain SET
 *    NULL on a composite key would null tenant_id.) NO ACTION (not RESTRICT) is
 *    deliberate: it is checked at end of statement, so a tenant cascade that
 *    removes parent and children together succeeds.
 *  - Polymorphic references (entity_type + entity_id on notes, comments,
 *    entity_tags, custom_field_values, audit_logs) cannot carry a FK; the
 *    entity_type is constrained by CHECK, cleanup is the application's job.
 *  - Append-only ledgers (audit_logs) keep user_id without a FK so history
 *    survives a user's erasure; the app role may only SELECT and INSERT them.
 *
 * Application role: clientforge_app (NOLOGIN, no BYPASSRLS, owns nothing).
 * Login roles used by the application are granted membership in it. Each
 * migration grants explicitly on the tables it creates (no default privileges:
 * those depend on which role runs the migration).
 */

-- ---------------------------------------------------------------------------
-- Extensions and application role
-- ---------------------------------------------------------------------------

-- citext is a trusted extension since PG13 (contrib, shipped with Debian's
-- postgresql-NN package).
CREATE EXTENSION IF NOT EXISTS citext;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'clientforge_app') THEN
    CREATE ROLE clientforge_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
  -- Fail loudly rather than silently run the app with RLS disabled.
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles
             WHERE rolname = 'clientforge_app' AND (rolsuper OR rolbypassrls)) THEN
    RAISE EXCEPTION 'role clientforge_app must not be SUPERUSER or BYPASSRLS (row level security would be bypassed)';
  END IF;
END
$$;

-- Only the schema owner / migration role creates objects in public (this is
-- the PG15 default; make PG13/14 behave the same, CVE-2018-1058).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO clientforge_app;

-- ---------------------------------------------------------------------------
-- Tenancy, identity and access
-- ---------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS public.tenants (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
  slug        text        NOT NULL CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
  status      text        NOT NULL DEFAULT 'active'
                          CHECK (status IN ('trial', 'active', 'suspended', 'cancelled')),
  settings    jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz,
  CONSTRAINT tenants_slug_key UNIQUE (slug)
);
COMMENT ON TABLE public.tenants IS
  'Root of tenancy. RLS keyed on id = app.current_tenant_id; slug lookup before login via resolve_tenant_id().';

CREATE TABLE IF NOT EXISTS public.users (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  email             citext      NOT NULL CHECK (length(email) <= 320 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  password_hash     text,       -- NULL for SSO-only users; never a plaintext password
  first_name        text        CHECK (length(first_name) <= 100),
  last_name         text        CHECK (length(last_name) <= 100),
  status            text        NOT NULL DEFAULT 'invited'
                                CHECK (status IN ('invited', 'active', 'suspended', 'deactivated')),
  timezone          text        NOT NULL DEFAULT 'UTC',
  locale            text        NOT NULL DEFAULT 'en',
  mfa_enabled       boolean     NOT NULL DEFAULT false,
  email_verified_at timestamptz,
  last_login_at     timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id)
);
-- One live account per email per tenant; a soft-deleted user can be re-invited.
CREATE UNIQUE INDEX IF NOT EXISTS users_tenant_id_email_key
  ON public.users (tenant_id, email) WHERE deleted_at IS NULL;

CREATE TABLE IF NOT EXISTS public.roles (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  name        citext      NOT NULL CHECK (btrim(name::text) <> '' AND length(name) <= 100),
  description text,
  is_system   boolean     NOT NULL DEFAULT false,  -- seeded per tenant (owner, admin, member)
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT roles_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT roles_tenant_id_name_key UNIQUE (tenant_id, name)
);

-- Global catalogue of permission codes such as 'contacts:read'.
CREATE TABLE IF NOT EXISTS public.permissions (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  code        text        NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$'),
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT permissions_code_key UNIQUE (code)
);

CREATE TABLE IF NOT EXISTS public.role_permissions (
  tenant_id     uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  role_id       uuid        NOT NULL,
  permission_id uuid        NOT NULL REFERENCES public.permissions (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT role_permissions_pkey PRIMARY KEY (tenant_id, role_id, permission_id),
  CONSTRAINT role_permissions_role_fkey FOREIGN KEY (tenant_id, role_id)
    REFERENCES public.roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS role_permissions_permission_id_idx
  ON public.role_permissions (permission_id);

CREATE TABLE IF NOT EXISTS public.user_roles (
  tenant_id  uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id    uuid        NOT NULL,
  role_id    uuid        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_roles_pkey PRIMARY KEY (tenant_id, user_id, role_id),
  CONSTRAINT user_roles_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES public.users (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT user_roles_role_fkey FOREIGN KEY (tenant_id, role_id)
    REFERENCES public.roles (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS user_roles_tenant_id_role_id_idx
  ON public.user_roles (tenant_id, role_id);

-- Refresh-token sessions. Only a SHA-256 of the token is stored. The client
-- presents the tenant id (JWT claim / cookie) with the token, the app sets
-- app.current_tenant_id and then looks the session up by hash.
CREATE TABLE IF NOT EXISTS public.sessions (
  id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id          uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id            uuid        NOT NULL,
  refresh_token_hash bytea       NOT NULL CHECK (octet_length(refresh_token_hash) = 32),
  user_agent         text,
  ip_address         inet,
  created_at         timestamptz NOT NULL DEFAULT now(),
  last_used_at       timestamptz,
  expires_at         timestamptz NOT NULL,
  revoked_at         timestamptz,
  CONSTRAINT sessions_refresh_token_hash_key UNIQUE (refresh_token_hash),
  CONSTRAINT sessions_expiry_check CHECK (expires_at > created_at),
  CONSTRAINT sessions_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS sessions_tenant_id_user_id_idx ON public.sessions (tenant_id, user_id);
-- For the expired-session purge job (runs as a maintenance role).
CREATE INDEX IF NOT EXISTS sessions_expires_at_idx ON public.sessions (expires_at);

-- Append-only audit trail (app role: SELECT + INSERT only). user_id has no FK
-- on purpose: audit history must survive a user's erasure.
CREATE TABLE IF NOT EXISTS public.audit_logs (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id     uuid,
  action      text        NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.:-]*$' AND length(action) <= 100),
  entity_type text        CHECK (length(entity_type) <= 100),
  entity_id   uuid,
  old_values  jsonb,
  new_values  jsonb,
  ip_address  inet,
  user_agent  text,
  request_id  text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_id_created_at_idx
  ON public.audit_logs (tenant_id, created_at DESC);
CREATE INDEX IF NOT EXISTS audit_logs_tenant_id_entity_idx
  ON public.audit_logs (tenant_id, entity_type, entity_id, created_at DESC);

-- ---------------------------------------------------------------------------
-- CRM core (003): accounts, contacts
-- ---------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS public.accounts (
  id                uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid          NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  owner_id          uuid,
  parent_account_id uuid,
  name              text          NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 255),
  domain            citext        CHECK (length(domain) <= 255),
  website           text          CHECK (length(website) <= 2048),
  industry          text          CHECK (length(industry) <= 100),
  phone             text          CHECK (length(phone) <= 50),
  billing_address   jsonb         CHECK (jsonb_typeof(billing_address) = 'object'),
  annual_revenue    numeric(15,2) CHECK (annual_revenue >= 0),
  currency          char(3)       NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  employee_count    integer       CHECK (employee_count >= 0),
  status            text          NOT NULL DEFAULT 'prospect'
                                  CHECK (status IN ('prospect', 'active', 'customer', 'inactive', 'churned')),
  created_at        timestamptz   NOT NULL DEFAULT now(),
  updated_at        timestamptz   NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  CONSTRAINT accounts_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT accounts_not_own_parent CHECK (parent_account_id <> id),
  CONSTRAINT accounts_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES public.users (tenant_id, id),
  CONSTRAINT accounts_parent_fkey FOREIGN KEY (tenant_id, parent_account_id)
    REFERENCES public.accounts (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS accounts_tenant_id_owner_id_idx ON public.accounts (tenant_id, owner_id);
CREATE INDEX IF NOT EXISTS accounts_tenant_id_parent_account_id_idx
  ON public.accounts (tenant_id, parent_account_id) WHERE parent_account_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS public.contacts (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  account_id  uuid,
  owner_id    uuid,
  first_name  text        CHECK (length(first_name) <= 100),
  last_name   text        CHECK (length(last_name) <= 100),
  email       citext      CHECK (length(email) <= 320 AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
  phone       text        CHECK (length(phone) <= 50),
  mobile      text        CHECK (length(mobile) <= 50),
  job_title   text        CHECK (length(job_title) <= 200),
  lead_source text        CHECK (length(lead_source) <= 100),
  status      text        NOT NULL DEFAULT 'lead'
                          CHECK (status IN ('lead', 'prospect', 'customer', 'inactive', 'churned')),
  address     jsonb       CHECK (jsonb_typeof(address) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz,
  CONSTRAINT contacts_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT contacts_identifiable CHECK (num_nonnulls(first_name, last_name, email) > 0),
  CONSTRAINT contacts_account_fkey FOREIGN KEY (tenant_id, account_id)
    REFERENCES public.accounts (tenant_id, id),
  CONSTRAINT contacts_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES public.users (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS contacts_tenant_id_account_id_idx
  ON public.contacts (tenant_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS contacts_tenant_id_owner_id_idx ON public.contacts (tenant_id, owner_id);

-- ---------------------------------------------------------------------------
-- Deals & pipelines (004)
-- ---------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS public.pipelines (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  name        text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
  is_default  boolean     NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz,
  CONSTRAINT pipelines_tenant_id_id_key UNIQUE (tenant_id, id)
);
CREATE UNIQUE INDEX IF NOT EXISTS pipelines_tenant_id_name_key
  ON public.pipelines (tenant_id, name) WHERE deleted_at IS NULL;
-- At most one default pipeline per tenant.
CREATE UNIQUE INDEX IF NOT EXISTS pipelines_one_default_per_tenant
  ON public.pipelines (tenant_id) WHERE is_default AND deleted_at IS NULL;

-- Ordered stages. (pipeline_id, position) is unique but DEFERRABLE so that a
-- single UPDATE can renumber/reorder stages (checked at end of statement);
-- a transaction may also SET CONSTRAINTS ... DEFERRED for multi-step moves.
CREATE TABLE IF NOT EXISTS public.pipeline_stages (
  id          uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid         NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  pipeline_id uuid         NOT NULL,
  name        text         NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
  position    integer      NOT NULL CHECK (position >= 0),
  probability numeric(5,2) NOT NULL DEFAULT 0 CHECK (probability BETWEEN 0 AND 100),
  stage_type  text         NOT NULL DEFAULT 'open' CHECK (stage_type IN ('open', 'won', 'lost')),
  created_at  timestamptz  NOT NULL DEFAULT now(),
  updated_at  timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT pipeline_stages_pipeline_id_position_key UNIQUE (pipeline_id, position)
    DEFERRABLE INITIALLY IMMEDIATE,
  CONSTRAINT pipeline_stages_tenant_id_id_key UNIQUE (tenant_id, id),
  -- Target of deals' (tenant, pipeline, stage) FK: a deal's stage must belong
  -- to the deal's pipeline.
  CONSTRAINT pipeline_stages_tenant_id_pipeline_id_id_key UNIQUE (tenant_id, pipeline_id, id),
  CONSTRAINT pipeline_stages_pipeline_fkey FOREIGN KEY (tenant_id, pipeline_id)
    REFERENCES public.pipelines (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS public.deals (
  id                  uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid          NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  pipeline_id         uuid          NOT NULL,
  stage_id            uuid          NOT NULL,
  account_id          uuid,
  contact_id          uuid,
  owner_id            uuid,
  name                text          NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 255),
  amount              numeric(15,2) CHECK (amount >= 0),
  currency            char(3)       NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  probability         numeric(5,2)  CHECK (probability BETWEEN 0 AND 100),
  status              text          NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
  expected_close_date date,
  closed_at           timestamptz,
  lost_reason         text,
  created_at          timestamptz   NOT NULL DEFAULT now(),
  updated_at          timestamptz   NOT NULL DEFAULT now(),
  deleted_at          timestamptz,
  CONSTRAINT deals_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT deals_closed_at_check CHECK (closed_at IS NULL OR status <> 'open'),
  CONSTRAINT deals_stage_fkey FOREIGN KEY (tenant_id, pipeline_id, stage_id)
    REFERENCES public.pipeline_stages (tenant_id, pipeline_id, id),
  CONSTRAINT deals_account_fkey FOREIGN KEY (tenant_id, account_id)
    REFERENCES public.accounts (tenant_id, id),
  CONSTRAINT deals_contact_fkey FOREIGN KEY (tenant_id, contact_id)
    REFERENCES public.contacts (tenant_id, id),
  CONSTRAINT deals_owner_fkey FOREIGN KEY (tenant_id, owner_id)
    REFERENCES public.users (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS deals_tenant_id_pipeline_id_stage_id_idx
  ON public.deals (tenant_id, pipeline_id, stage_id);
CREATE INDEX IF NOT EXISTS deals_tenant_id_account_id_idx
  ON public.deals (tenant_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS deals_tenant_id_contact_id_idx
  ON public.deals (tenant_id, contact_id) WHERE contact_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Tasks & activities (005)
-- ---------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS public.tasks (
  id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id    uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  title        text        NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 500),
  description  text,
  status       text        NOT NULL DEFAULT 'todo'
                           CHECK (status IN ('todo', 'in_progress', 'completed', 'cancelled')),
  priority     text        NOT NULL DEFAULT 'medium'
                           CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
  due_at       timestamptz,
  completed_at timestamptz,
  assigned_to  uuid,
  created_by   uuid,
  account_id   uuid,
  contact_id   uuid,
  deal_id      uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz,
  CONSTRAINT tasks_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT tasks_completed_at_check CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
  CONSTRAINT tasks_assigned_to_fkey FOREIGN KEY (tenant_id, assigned_to)
    REFERENCES public.users (tenant_id, id),
  CONSTRAINT tasks_created_by_fkey FOREIGN KEY (tenant_id, created_by)
    REFERENCES public.users (tenant_id, id),
  CONSTRAINT tasks_account_fkey FOREIGN KEY (tenant_id, account_id)
    REFERENCES public.accounts (tenant_id, id),
  CONSTRAINT tasks_contact_fkey FOREIGN KEY (tenant_id, contact_id)
    REFERENCES public.contacts (tenant_id, id),
  CONSTRAINT tasks_deal_fkey FOREIGN KEY (tenant_id, deal_id)
    REFERENCES public.deals (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS tasks_tenant_id_status_due_at_idx ON public.tasks (tenant_id, status, due_at);
CREATE INDEX IF NOT EXISTS tasks_tenant_id_contact_id_idx
  ON public.tasks (tenant_id, contact_id) WHERE contact_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_tenant_id_account_id_idx
  ON public.tasks (tenant_id, account_id) WHERE account_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_tenant_id_deal_id_idx
  ON public.tasks (tenant_id, deal_id) WHERE deal_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS public.activities (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  activity_type    text        NOT NULL
                               CHECK (activity_type IN ('call', 'email', 'meeting', 'note', 'task', 'other')),
  subject          text        CHECK (length(subject) <= 500),
  body             text,
  occurred_at      timestamptz NOT NULL DEFAULT now(),
  duration_minutes integer     CHECK (duration_minutes >= 0),
  user_id          uuid,
  account_id       uuid,
  contact_id       uuid,
  deal_id          uuid,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  deleted_at       timestamptz,
  CONSTRAINT activities_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT activities_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES public.users (tenant_id, id),
  CONSTRAINT activities_account_fkey FOREIGN KEY (tenant_id, account_id)
    REFERENCES public.accounts (tenant_id, id),
  CONSTRAINT activities_contact_fkey FOREIGN KEY (tenant_id, contact_id)
    REFERENCES public.contacts (tenant_id, id),
  CONSTRAINT activities_deal_fkey FOREIGN KEY (tenant_id, deal_id)
    REFERENCES public.deals (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS activities_tenant_id_occurred_at_idx
  ON public.activities (tenant_id, occurred_at DESC);

-- ---------------------------------------------------------------------------
-- Notes, comments, tags, custom fields (006)
-- ---------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS public.notes (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  entity_type text        NOT NULL CHECK (entity_type IN ('account', 'contact', 'deal', 'task', 'activity')),
  entity_id   uuid        NOT NULL,
  title       text        CHECK (length(title) <= 500),
  body        text        NOT NULL,
  is_pinned   boolean     NOT NULL DEFAULT false,
  created_by  uuid,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz,
  CONSTRAINT notes_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT notes_created_by_fkey FOREIGN KEY (tenant_id, created_by)
    REFERENCES public.users (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS notes_tenant_id_entity_idx
  ON public.notes (tenant_id, entity_type, entity_id, created_at DESC);

CREATE TABLE IF NOT EXISTS public.comments (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  entity_type       text        NOT NULL
                                CHECK (entity_type IN ('account', 'contact', 'deal', 'task', 'activity', 'note')),
  entity_id         uuid        NOT NULL,
  parent_comment_id uuid,
  body              text        NOT NULL CHECK (btrim(body) <> ''),
  created_by        uuid,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  CONSTRAINT comments_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT comments_not_own_parent CHECK (parent_comment_id <> id),
  CONSTRAINT comments_parent_fkey FOREIGN KEY (tenant_id, parent_comment_id)
    REFERENCES public.comments (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT comments_created_by_fkey FOREIGN KEY (tenant_id, created_by)
    REFERENCES public.users (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS comments_tenant_id_entity_idx
  ON public.comments (tenant_id, entity_type, entity_id, created_at);
CREATE INDEX IF NOT EXISTS comments_tenant_id_parent_comment_id_idx
  ON public.comments (tenant_id, parent_comment_id) WHERE parent_comment_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS public.tags (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  name        citext      NOT NULL CHECK (btrim(name::text) <> '' AND length(name) <= 100),
  color       text        CHECK (color ~ '^#[0-9A-Fa-f]{6}$'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tags_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT tags_tenant_id_name_key UNIQUE (tenant_id, name)
);

CREATE TABLE IF NOT EXISTS public.entity_tags (
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  tag_id      uuid        NOT NULL,
  entity_type text        NOT NULL CHECK (entity_type IN ('account', 'contact', 'deal', 'task', 'activity', 'note')),
  entity_id   uuid        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT entity_tags_pkey PRIMARY KEY (tenant_id, tag_id, entity_type, entity_id),
  CONSTRAINT entity_tags_tag_fkey FOREIGN KEY (tenant_id, tag_id)
    REFERENCES public.tags (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS entity_tags_tenant_id_entity_idx
  ON public.entity_tags (tenant_id, entity_type, entity_id);

CREATE TABLE IF NOT EXISTS public.custom_fields (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  entity_type text        NOT NULL CHECK (entity_type IN ('account', 'contact', 'deal', 'task', 'activity')),
  key         text        NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,62}$'),
  label       text        NOT NULL CHECK (btrim(label) <> '' AND length(label) <= 200),
  field_type  text        NOT NULL
                          CHECK (field_type IN ('text', 'number', 'date', 'boolean', 'select', 'multiselect', 'url', 'email')),
  options     jsonb       CHECK (jsonb_typeof(options) = 'array'),
  is_required boolean     NOT NULL DEFAULT false,
  position    integer     NOT NULL DEFAULT 0 CHECK (position >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz,
  CONSTRAINT custom_fields_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT custom_fields_select_needs_options CHECK (field_type NOT IN ('select', 'multiselect') OR options IS NOT NULL)
);
CREATE UNIQUE INDEX IF NOT EXISTS custom_fields_tenant_id_entity_type_key_key
  ON public.custom_fields (tenant_id, entity_type, key) WHERE deleted_at IS NULL;

-- One value per (field, entity). The entity type is the field's entity_type.
CREATE TABLE IF NOT EXISTS public.custom_field_values (
  tenant_id       uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  custom_field_id uuid        NOT NULL,
  entity_id       uuid        NOT NULL,
  value           jsonb       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT custom_field_values_pkey PRIMARY KEY (tenant_id, custom_field_id, entity_id),
  CONSTRAINT custom_field_values_field_fkey FOREIGN KEY (tenant_id, custom_field_id)
    REFERENCES public.custom_fields (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS custom_field_values_tenant_id_entity_id_idx
  ON public.custom_field_values (tenant_id, entity_id);

-- ---------------------------------------------------------------------------
-- Subscriptions & AI integration (007)
-- ---------------------------------------------------------------------------

-- Global plan catalogue (not tenant-scoped; the app may only read it).
CREATE TABLE IF NOT EXISTS public.plans (
  id            uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
  code          text          NOT NULL CHECK (code ~ '^[a-z][a-z0-9_-]{0,62}$'),
  name          text          NOT NULL CHECK (btrim(name) <> ''),
  description   text,
  price_monthly numeric(12,2) NOT NULL CHECK (price_monthly >= 0),
  price_yearly  numeric(12,2) NOT NULL CHECK (price_yearly >= 0),
  currency      char(3)       NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  max_users     integer       CHECK (max_users > 0),   -- NULL = unlimited
  features      jsonb         NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(features) = 'object'),
  is_active     boolean       NOT NULL DEFAULT true,
  created_at    timestamptz   NOT NULL DEFAULT now(),
  updated_at    timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT plans_code_key UNIQUE (code)
);

CREATE TABLE IF NOT EXISTS public.tenant_subscriptions (
  id                       uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id                uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  plan_id                  uuid        NOT NULL REFERENCES public.plans (id),  -- a plan in use cannot be deleted
  status                   text        NOT NULL DEFAULT 'trialing'
                                       CHECK (status IN ('trialing', 'active', 'past_due', 'cancelled', 'expired')),
  billing_cycle            text        NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'yearly')),
  seats                    integer     NOT NULL DEFAULT 1 CHECK (seats > 0),
  current_period_start     timestamptz NOT NULL DEFAULT now(),
  current_period_end       timestamptz NOT NULL,
  trial_ends_at            timestamptz,
  cancel_at_period_end     boolean     NOT NULL DEFAULT false,
  cancelled_at             timestamptz,
  external_subscription_id text        CHECK (length(external_subscription_id) <= 255),
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenant_subscriptions_period_check CHECK (current_period_end > current_period_start)
);
CREATE INDEX IF NOT EXISTS tenant_subscriptions_tenant_id_created_at_idx
  ON public.tenant_subscriptions (tenant_id, created_at DESC);
-- At most one live subscription per tenant.
CREATE UNIQUE INDEX IF NOT EXISTS tenant_subscriptions_one_live_per_tenant
  ON public.tenant_subscriptions (tenant_id) WHERE status IN ('trialing', 'active', 'past_due');
CREATE INDEX IF NOT EXISTS tenant_subscriptions_plan_id_idx ON public.tenant_subscriptions (plan_id);

-- Per-tenant AI provider settings. API keys are stored only as ciphertext
-- produced by the application (envelope encryption); never in plaintext.
CREATE TABLE IF NOT EXISTS public.ai_integration_settings (
  id                  uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id           uuid          NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  provider            text          NOT NULL
                                    CHECK (provider IN ('openai', 'anthropic', 'azure_openai', 'google', 'custom')),
  is_enabled          boolean       NOT NULL DEFAULT false,
  default_model       text          CHECK (length(default_model) <= 200),
  api_key_ciphertext  bytea,
  api_key_last4       text          CHECK (api_key_last4 ~ '^.{4}$'),
  monthly_token_limit bigint        CHECK (monthly_token_limit > 0),
  monthly_budget      numeric(12,2) CHECK (monthly_budget >= 0),
  settings            jsonb         NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(settings) = 'object'),
  created_at          timestamptz   NOT NULL DEFAULT now(),
  updated_at          timestamptz   NOT NULL DEFAULT now(),
  CONSTRAINT ai_integration_settings_tenant_id_provider_key UNIQUE (tenant_id, provider)
);

-- ---------------------------------------------------------------------------
-- Row level security
-- ---------------------------------------------------------------------------

-- One definition of the tenant policy, used by every migration (001-011 and
-- later ones): public.enable_tenant_isolation(table [, key column, policy]).
--  - validates the tenancy rules first and raises if the table breaks one:
--    <key> uuid NOT NULL, an index whose first column is <key>, and (for
--    tenant_id) FK (tenant_id) -> public.tenants(id) ON DELETE CASCADE;
--  - ENABLE + FORCE ROW LEVEL SECURITY (only when not already set);
--  - creates the policy, FOR ALL TO PUBLIC,
--      USING / WITH CHECK (<key> = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid)
--    when it is missing or differs in any way (drop + create converges to
--    exactly this definition). An identical policy is left alone, so a re-run
--    takes no locks and changes nothing.
-- Not executable by PUBLIC: it is a migration helper.
CREATE OR REPLACE FUNCTION public.enable_tenant_isolation(
    p_table  regclass,
    p_column name DEFAULT 'tenant_id',
    p_policy name DEFAULT 'tenant_isolation')
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
  v_attnum   smallint;
  v_expected text := format('(%I = (NULLIF(current_setting(''app.current_tenant_id''::text, true), ''''::text))::uuid)',
                            p_column);
  v_rls      boolean;
  v_force    boolean;
BEGIN
  SELECT a.attnum INTO v_attnum
    FROM pg_attribute a
   WHERE a.attrelid = p_table AND a.attname = p_column AND NOT a.attisdropped
     AND a.atttypid = 'uuid'::regtype AND a.attnotnull;
  IF v_attnum IS NULL THEN
    RAISE EXCEPTION '%: tenant isolation needs a column % uuid NOT NULL', p_table, p_column;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = p_table AND i.indkey[0] = v_attnum) THEN
    RAISE EXCEPTION '%: tenant isolation needs an index whose first column is %', p_table, p_column;
  END IF;
  IF p_column = 'tenant_id' AND NOT EXISTS (
       SELECT 1 FROM pg_constraint c
        WHERE c.conrelid = p_table AND c.contype = 'f'
          AND c.conkey = ARRAY[v_attnum] AND c.confrelid = 'public.tenants'::regclass
          AND c.confdeltype = 'c') THEN
    RAISE EXCEPTION '%: tenant_id needs REFERENCES public.tenants (id) ON DELETE CASCADE', p_table;
  END IF;

  SELECT c.relrowsecurity, c.relforcerowsecurity INTO v_rls, v_force FROM pg_class c WHERE c.oid = p_table;
  IF NOT v_rls THEN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_table);
  END IF;
  IF NOT v_force THEN
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_table);
  END IF;

  IF NOT EXISTS (
       SELECT 1 FROM pg_policy p
        WHERE p.polrelid = p_table AND p.polname = p_policy
          AND p.polcmd = '*' AND p.polpermissive AND p.polroles = '{0}'::oid[]
          AND pg_get_expr(p.polqual, p.polrelid) = v_expected
          AND pg_get_expr(p.polwithcheck, p.polrelid) = v_expected) THEN
    IF EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = p_table AND p.polname = p_policy) THEN
      EXECUTE format('DROP POLICY %I ON %s', p_policy, p_table);
    END IF;
    EXECUTE format(
      'CREATE POLICY %1$I ON %2$s AS PERMISSIVE FOR ALL TO PUBLIC'
      ' USING (%3$I = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid)'
      ' WITH CHECK (%3$I = NULLIF(current_setting(''app.current_tenant_id'', true), '''')::uuid)',
      p_policy, p_table, p_column);
  END IF;
END
$fn$;
REVOKE ALL ON FUNCTION public.enable_tenant_isolation(regclass, name, name) FROM PUBLIC;

DO $$
DECLARE
  t regclass;
BEGIN
  -- tenants: keyed on its own id (a tenant sees and updates only itself).
  PERFORM public.enable_tenant_isolation('public.tenants', 'id', 'tenant_self');
  FOREACH t IN ARRAY ARRAY[
    'public.users', 'public.roles', 'public.role_permissions', 'public.user_roles',
    'public.sessions', 'public.audit_logs', 'public.accounts', 'public.contacts',
    'public.pipelines', 'public.pipeline_stages', 'public.deals', 'public.tasks',
    'public.activities', 'public.notes', 'public.comments', 'public.tags',
    'public.entity_tags', 'public.custom_fields', 'public.custom_field_values',
    'public.tenant_subscriptions', 'public.ai_integration_settings'
  ]::regclass[] LOOP
    PERFORM public.enable_tenant_isolation(t);
  END LOOP;
END
$$;

-- Tenant resolution before a tenant context exists (login page on
-- <slug>.clientforge.app). Returns only the id of a live tenant. SECURITY
-- DEFINER with a pinned search_path; only clientforge_app may execute it.
CREATE OR REPLACE FUNCTION public.resolve_tenant_id(p_slug text)
  RETURNS uuid
  LANGUAGE sql
  STABLE
  SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp
AS $$
  SELECT t.id
    FROM public.tenants t
   WHERE t.slug = lower(p_slug)
     AND t.deleted_at IS NULL
     AND t.status IN ('trial', 'active')
$$;
REVOKE ALL ON FUNCTION public.resolve_tenant_id(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.resolve_tenant_id(text) TO clientforge_app;

-- ---------------------------------------------------------------------------
-- Privileges for the application role
-- ---------------------------------------------------------------------------

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE
  public.tenants, public.users, public.roles, public.role_permissions, public.user_roles,
  public.sessions, public.accounts, public.contacts, public.pipelines,
  public.pipeline_stages, public.deals, public.tasks, public.activities, public.notes,
  public.comments, public.tags, public.entity_tags, public.custom_fields,
  public.custom_field_values, public.tenant_subscriptions, public.ai_integration_settings
  TO clientforge_app;
-- Append-only.
GRANT SELECT, INSERT ON TABLE public.audit_logs TO clientforge_app;
-- Global reference data, managed by migrations / back office.
GRANT SELECT ON TABLE public.permissions, public.plans TO clientforge_app;

SELECT 'Initial schema migration complete!' AS status;
