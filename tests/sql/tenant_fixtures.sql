-- Per-tenant fixture: creates one tenant (id = app.current_tenant_id) and at
-- least one valid row in EVERY tenant-scoped table, through the application
-- role, i.e. through RLS (WITH CHECK) and the composite same-tenant FKs.
--
-- Usage (one transaction per tenant, as a role granted clientforge_app):
--   BEGIN;
--   SELECT set_config('app.current_tenant_id', '<tenant uuid>', true);
--   <this file>
--   COMMIT;
-- Prerequisite: tests/sql/fixtures_global.sql (permissions, plans).
--
-- A single DO block (one simple-query statement). Tables created by optional
-- migrations (008, 010, 011) are only filled when they exist.
-- tests/sql/tenant_catalog_check.sql / check_schema.sh fail when a
-- tenant-scoped table found in the catalog has no rows after this ran for
-- both tenants: add a block here for every new tenant-scoped table.
DO $fixture$
DECLARE
  tid       uuid := NULLIF(current_setting('app.current_tenant_id', true), '')::uuid;
  sfx       text;
  v_user    uuid;
  v_user2   uuid;
  v_role    uuid;
  v_account uuid;
  v_contact uuid;
  v_pipe    uuid;
  v_stage1  uuid;
  v_stage2  uuid;
  v_deal    uuid;
  v_task    uuid;
  v_note    uuid;
  v_comment uuid;
  v_tag     uuid;
  v_field   uuid;
  v_chat    uuid;
BEGIN
  IF tid IS NULL THEN
    RAISE EXCEPTION 'tenant_fixtures.sql: set app.current_tenant_id first';
  END IF;
  sfx := replace(tid::text, '-', '');

  -- tenants (signup flow: the tenant context is set to the new id first)
  INSERT INTO public.tenants (id, name, slug, status)
  VALUES (tid, 'Tenant ' || sfx, 't-' || left(sfx, 12), 'active');

  -- identity & access
  INSERT INTO public.users (tenant_id, email, first_name, last_name, status, password_hash)
  VALUES (tid, 'owner@' || sfx || '.example.com', 'Olive', 'Owner', 'active', '$argon2id$fixture')
  RETURNING id INTO v_user;
  INSERT INTO public.users (tenant_id, email, first_name, last_name, status)
  VALUES (tid, 'Sales@' || sfx || '.example.com', 'Sam', 'Seller', 'invited')
  RETURNING id INTO v_user2;

  INSERT INTO public.roles (tenant_id, name, description, is_system)
  VALUES (tid, 'admin', 'Administrators', true)
  RETURNING id INTO v_role;

  INSERT INTO public.role_permissions (tenant_id, role_id, permission_id)
  SELECT tid, v_role, p.id FROM public.permissions p WHERE p.code IN ('contacts:read', 'contacts:write');

  INSERT INTO public.user_roles (tenant_id, user_id, role_id) VALUES (tid, v_user, v_role);

  INSERT INTO public.sessions (tenant_id, user_id, refresh_token_hash, user_agent, ip_address, expires_at)
  VALUES (tid, v_user, sha256(convert_to('refresh-token-' || sfx, 'UTF8')), 'fixture', '192.0.2.1',
          now() + interval '30 days');

  INSERT INTO public.audit_logs (tenant_id, user_id, action, entity_type, entity_id, new_values)
  VALUES (tid, v_user, 'user.login', 'user', v_user, '{"ok": true}');

  -- CRM core
  INSERT INTO public.accounts (tenant_id, owner_id, name, domain, annual_revenue, employee_count, status)
  VALUES (tid, v_user, 'Acme ' || sfx, 'acme-' || left(sfx, 8) || '.example.com', 1250000.00, 42, 'customer')
  RETURNING id INTO v_account;

  INSERT INTO public.contacts (tenant_id, account_id, owner_id, first_name, last_name, email, status)
  VALUES (tid, v_account, v_user, 'Carla', 'Contact', 'carla@' || sfx || '.example.com', 'customer')
  RETURNING id INTO v_contact;
  INSERT INTO public.contacts (tenant_id, first_name, last_name, status)
  VALUES (tid, 'Larry', 'Lead', 'lead');

  -- deals & pipelines
  INSERT INTO public.pipelines (tenant_id, name, is_default) VALUES (tid, 'Sales', true)
  RETURNING id INTO v_pipe;
  INSERT INTO public.pipeline_stages (tenant_id, pipeline_id, name, position, probability, stage_type)
  VALUES (tid, v_pipe, 'Qualified', 0, 20, 'open') RETURNING id INTO v_stage1;
  INSERT INTO public.pipeline_stages (tenant_id, pipeline_id, name, position, probability, stage_type)
  VALUES (tid, v_pipe, 'Won', 1, 100, 'won') RETURNING id INTO v_stage2;
  -- reorder in one statement (deferrable unique (pipeline_id, position))
  UPDATE public.pipeline_stages SET position = 1 - position WHERE pipeline_id = v_pipe;

  INSERT INTO public.deals (tenant_id, pipeline_id, stage_id, account_id, contact_id, owner_id, name, amount, currency,
                            status, expected_close_date)
  VALUES (tid, v_pipe, v_stage1, v_account, v_contact, v_user, 'Big deal', 50000.00, 'USD', 'open',
          current_date + 30)
  RETURNING id INTO v_deal;
  INSERT INTO public.deals (tenant_id, pipeline_id, stage_id, owner_id, name, amount, currency, status, closed_at)
  VALUES (tid, v_pipe, v_stage2, v_user2, 'Won deal', 1200.50, 'EUR', 'won', now());

  -- tasks & activities
  INSERT INTO public.tasks (tenant_id, title, status, priority, due_at, assigned_to, created_by, contact_id, deal_id)
  VALUES (tid, 'Call Carla', 'todo', 'high', now() + interval '1 day', v_user2, v_user, v_contact, v_deal)
  RETURNING id INTO v_task;
  INSERT INTO public.tasks (tenant_id, title, status, completed_at, assigned_to, account_id)
  VALUES (tid, 'Send contract', 'completed', now(), v_user, v_account);

  INSERT INTO public.activities (tenant_id, activity_type, subject, duration_minutes, user_id, account_id, contact_id, deal_id)
  VALUES (tid, 'call', 'Discovery call', 30, v_user, v_account, v_contact, v_deal);

  -- notes, comments, tags, custom fields
  INSERT INTO public.notes (tenant_id, entity_type, entity_id, body, created_by)
  VALUES (tid, 'contact', v_contact, 'Prefers email.', v_user)
  RETURNING id INTO v_note;

  INSERT INTO public.comments (tenant_id, entity_type, entity_id, body, created_by)
  VALUES (tid, 'deal', v_deal, 'Looks promising', v_user)
  RETURNING id INTO v_comment;
  INSERT INTO public.comments (tenant_id, entity_type, entity_id, parent_comment_id, body, created_by)
  VALUES (tid, 'deal', v_deal, v_comment, 'Agreed', v_user2);

  INSERT INTO public.tags (tenant_id, name, color) VALUES (tid, 'VIP', '#FF8800')
  RETURNING id INTO v_tag;
  INSERT INTO public.entity_tags (tenant_id, tag_id, entity_type, entity_id)
  VALUES (tid, v_tag, 'contact', v_contact), (tid, v_tag, 'deal', v_deal);

  INSERT INTO public.custom_fields (tenant_id, entity_type, key, label, field_type, options)
  VALUES (tid, 'contact', 'tier', 'Tier', 'select', '["gold", "silver"]')
  RETURNING id INTO v_field;
  INSERT INTO public.custom_field_values (tenant_id, custom_field_id, entity_id, value)
  VALUES (tid, v_field, v_contact, '"gold"');

  -- subscriptions & AI integration
  INSERT INTO public.tenant_subscriptions (tenant_id, plan_id, status, billing_cycle, seats, current_period_end)
  SELECT tid, p.id, 'active', 'monthly', 3, now() + interval '1 month'
    FROM public.plans p WHERE p.code = 'starter';

  INSERT INTO public.ai_integration_settings (tenant_id, provider, is_enabled, default_model, api_key_ciphertext,
                                              api_key_last4, monthly_budget)
  VALUES (tid, 'openai', true, 'gpt-4o-mini', '\x00010203'::bytea, 'abcd', 100.00);

  -- 008: AI usage and chat
  IF to_regclass('public.ai_usage') IS NOT NULL THEN
    INSERT INTO public.ai_chat_sessions (tenant_id, user_id, title, model, context_type, context_id, last_message_at)
    VALUES (tid, v_user, 'Deal summary', 'gpt-4o-mini', 'deal', v_deal, now())
    RETURNING id INTO v_chat;
    INSERT INTO public.ai_chat_messages (tenant_id, session_id, role, content)
    VALUES (tid, v_chat, 'system', 'You are a CRM assistant.'),
           (tid, v_chat, 'user', 'Summarize this deal'),
           (tid, v_chat, 'assistant', 'It is a big deal.');
    INSERT INTO public.ai_chat_messages (tenant_id, session_id, role, content, tool_name, tool_call_id)
    VALUES (tid, v_chat, 'tool', '{"amount": 50000}', 'get_deal', 'call_1');
    INSERT INTO public.ai_usage (tenant_id, user_id, feature, provider, model, input_tokens, output_tokens, cost,
                                 latency_ms, status, chat_session_id)
    VALUES (tid, v_user, 'chat', 'openai', 'gpt-4o-mini', 120, 40, 0.000420, 850, 'success', v_chat);
  END IF;

  -- 010: files
  IF to_regclass('public.files') IS NOT NULL THEN
    INSERT INTO public.files (tenant_id, bucket, object_key, original_filename, size_bytes, mime_type, sha256,
                              owner_user_id, entity_type, entity_id)
    VALUES (tid, 'clientforge-files', tid::text || '/contracts/contract.pdf', 'contract.pdf', 10240,
            'application/pdf', encode(sha256(convert_to('contract-' || sfx, 'UTF8')), 'hex'),
            v_user, 'deal', v_deal);
    INSERT INTO public.files (tenant_id, bucket, object_key, size_bytes, mime_type, sha256,
                              virus_scan_status, virus_scan_engine, virus_scanned_at, virus_scan_result)
    VALUES (tid, 'clientforge-files', tid::text || '/avatars/a.png', 0, 'image/png',
            encode(sha256(''::bytea), 'hex'), 'clean', 'clamav 1.3', now(), 'OK');
  END IF;

  -- 011: embeddings (pgvector); dynamic SQL so this block also runs where
  -- the vector type does not exist.
  IF to_regclass('public.embeddings') IS NOT NULL THEN
    EXECUTE $sql$
      INSERT INTO public.embeddings (tenant_id, entity_type, entity_id, model, dimensions, embedding, content_sha256)
      VALUES ($1, 'contact', $2, 'text-embedding-3-small', 1536,
              array_fill(0.01::real, ARRAY[1536])::vector,
              encode(sha256(convert_to('contact-text', 'UTF8')), 'hex')),
             ($1, 'deal', $3, 'text-embedding-3-small', 1536,
              (array_fill(0.01::real, ARRAY[1535]) || ARRAY[1::real])::vector,
              encode(sha256(convert_to('deal-text', 'UTF8')), 'hex'))
    $sql$ USING tid, v_contact, v_deal;
  END IF;
END
$fixture$;
