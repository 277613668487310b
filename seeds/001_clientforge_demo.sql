/**
 * ClientForge demo data: two tenants with their users, accounts, contacts, a pipeline and deals.
 * For development and CI databases only: pgboot applies it only when a seeds directory is
 * configured (docker-compose.yml sets PGBOOT_SEEDS for the dev database; the Kubernetes
 * manifests do not).
 *
 * Idempotent: fixed ids and ON CONFLICT DO NOTHING, so running it again (psql -f, pgboot
 * verify) changes nothing.
 *
 * Respects row level security: it writes as clientforge_app (NOBYPASSRLS) with
 * app.current_tenant_id set to each tenant in turn, so every row passes the tenant policies'
 * WITH CHECK exactly as the application's would. The migrating role must be allowed to
 * SET ROLE clientforge_app (a superuser, as in docker-compose.yml, or a member of it).
 * Session-level settings (not SET LOCAL) so that it also works statement by statement.
 * Created: 2026-11-26
 */

SET ROLE clientforge_app;

-- ---------------------------------------------------------------------------
-- Tenant A: Acme Corporation
-- ---------------------------------------------------------------------------
SELECT set_config('app.current_tenant_id', 'a0000000-0000-4000-8000-000000000001', false);

INSERT INTO public.tenants (id, name, slug, status) VALUES
  ('a0000000-0000-4000-8000-000000000001', 'Acme Corporation', 'acme', 'active')
ON CONFLICT DO NOTHING;

INSERT INTO public.users (id, tenant_id, email, first_name, last_name, status) VALUES
  ('a0000000-0000-4000-8000-000000000101', 'a0000000-0000-4000-8000-000000000001', 'alice@acme.example', 'Alice', 'Admin', 'active'),
  ('a0000000-0000-4000-8000-000000000102', 'a0000000-0000-4000-8000-000000000001', 'sam@acme.example', 'Sam', 'Sales', 'active')
ON CONFLICT DO NOTHING;

INSERT INTO public.accounts (id, tenant_id, owner_id, name, domain, industry, status) VALUES
  ('a0000000-0000-4000-8000-000000000201', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000102', 'Globex', 'globex.example', 'Manufacturing', 'customer'),
  ('a0000000-0000-4000-8000-000000000202', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000102', 'Initech', 'initech.example', 'Software', 'prospect')
ON CONFLICT DO NOTHING;

INSERT INTO public.contacts (id, tenant_id, account_id, owner_id, first_name, last_name, email, job_title, status) VALUES
  ('a0000000-0000-4000-8000-000000000301', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000201', 'a0000000-0000-4000-8000-000000000102', 'Hank', 'Scorpio', 'hank@globex.example', 'CEO', 'customer'),
  ('a0000000-0000-4000-8000-000000000302', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000202', 'a0000000-0000-4000-8000-000000000102', 'Bill', 'Lumbergh', 'bill@initech.example', 'Vice President', 'lead')
ON CONFLICT DO NOTHING;

INSERT INTO public.pipelines (id, tenant_id, name, is_default) VALUES
  ('a0000000-0000-4000-8000-000000000401', 'a0000000-0000-4000-8000-000000000001', 'Sales', true)
ON CONFLICT DO NOTHING;

INSERT INTO public.pipeline_stages (id, tenant_id, pipeline_id, name, position, probability, stage_type) VALUES
  ('a0000000-0000-4000-8000-000000000501', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000401', 'Qualified', 0, 20, 'open'),
  ('a0000000-0000-4000-8000-000000000502', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000401', 'Won', 1, 100, 'won')
ON CONFLICT (id) DO NOTHING;  -- (pipeline_id, position) is DEFERRABLE: not an arbiter

INSERT INTO public.deals (id, tenant_id, pipeline_id, stage_id, account_id, contact_id, owner_id, name, amount, probability, status, expected_close_date) VALUES
  ('a0000000-0000-4000-8000-000000000601', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000401', 'a0000000-0000-4000-8000-000000000501', 'a0000000-0000-4000-8000-000000000202', 'a0000000-0000-4000-8000-000000000302', 'a0000000-0000-4000-8000-000000000102', 'Initech TPS rollout', 48000, 20, 'open', DATE '2027-03-31'),
  ('a0000000-0000-4000-8000-000000000602', 'a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000401', 'a0000000-0000-4000-8000-000000000502', 'a0000000-0000-4000-8000-000000000201', 'a0000000-0000-4000-8000-000000000301', 'a0000000-0000-4000-8000-000000000102', 'Globex renewal', 120000, 100, 'won', DATE '2026-10-01')
ON CONFLICT DO NOTHING;

-- ---------------------------------------------------------------------------
-- Tenant B: Umbrella Health
-- ---------------------------------------------------------------------------
SELECT set_config('app.current_tenant_id', 'b0000000-0000-4000-8000-000000000001', false);

INSERT INTO public.tenants (id, name, slug, status) VALUES
  ('b0000000-0000-4000-8000-000000000001', 'Umbrella Health', 'umbrella', 'trial')
ON CONFLICT DO NOTHING;

INSERT INTO public.users (id, tenant_id, email, first_name, last_name, status) VALUES
  ('b0000000-0000-4000-8000-000000000101', 'b0000000-0000-4000-8000-000000000001', 'ada@umbrella.example', 'Ada', 'Owner', 'active')
ON CONFLICT DO NOTHING;

INSERT INTO public.accounts (id, tenant_id, owner_id, name, domain, industry, status) VALUES
  ('b0000000-0000-4000-8000-000000000201', 'b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000101', 'Raccoon City Clinic', 'rcclinic.example', 'Healthcare', 'active')
ON CONFLICT DO NOTHING;

INSERT INTO public.contacts (id, tenant_id, account_id, owner_id, first_name, last_name, email, job_title, status) VALUES
  ('b0000000-0000-4000-8000-000000000301', 'b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000201', 'b0000000-0000-4000-8000-000000000101', 'Jill', 'Valentine', 'jill@rcclinic.example', 'Head of Operations', 'prospect')
ON CONFLICT DO NOTHING;

INSERT INTO public.pipelines (id, tenant_id, name, is_default) VALUES
  ('b0000000-0000-4000-8000-000000000401', 'b0000000-0000-4000-8000-000000000001', 'New business', true)
ON CONFLICT DO NOTHING;

INSERT INTO public.pipeline_stages (id, tenant_id, pipeline_id, name, position, probability, stage_type) VALUES
  ('b0000000-0000-4000-8000-000000000501', 'b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000401', 'Discovery', 0, 10, 'open')
ON CONFLICT (id) DO NOTHING;  -- (pipeline_id, position) is DEFERRABLE: not an arbiter

INSERT INTO public.deals (id, tenant_id, pipeline_id, stage_id, account_id, contact_id, owner_id, name, amount, probability, status, expected_close_date) VALUES
  ('b0000000-0000-4000-8000-000000000601', 'b0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000401', 'b0000000-0000-4000-8000-000000000501', 'b0000000-0000-4000-8000-000000000201', 'b0000000-0000-4000-8000-000000000301', 'b0000000-0000-4000-8000-000000000101', 'Clinic CRM pilot', 15000, 10, 'open', DATE '2027-01-15')
ON CONFLICT DO NOTHING;

RESET ROLE;
RESET app.current_tenant_id;

SELECT 'ClientForge demo seed complete!' AS status;
