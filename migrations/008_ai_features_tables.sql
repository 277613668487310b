/**
 * AI Features Migration
 * AI usage tracking (one row per model request: tokens, cost, latency,
 * outcome) and AI chat history (sessions and messages). All three tables are
 * tenant-scoped with the standard tenant_isolation policy (see 001).
 * Created: 2025-11-25
 *
 * Notes:
 *  - ai_usage is an append-only billing/usage ledger: the app may SELECT and
 *    INSERT only, and user_id deliberately has no FK (like audit_logs) so
 *    usage history survives a user's erasure.
 *  - Chat sessions belong to a user and are removed with that user
 *    (ON DELETE CASCADE); messages are removed with their session.
 */

CREATE TABLE IF NOT EXISTS public.ai_usage (
  id            uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid          NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id       uuid,
  feature       text          NOT NULL CHECK (feature ~ '^[a-z][a-z0-9_.-]*$' AND length(feature) <= 100),
  provider      text          CHECK (length(provider) <= 50),
  model         text          NOT NULL CHECK (btrim(model) <> '' AND length(model) <= 200),
  input_tokens  integer       NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens integer       NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cost          numeric(14,6) NOT NULL DEFAULT 0 CHECK (cost >= 0),
  currency      char(3)       NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
  latency_ms    integer       CHECK (latency_ms >= 0),
  status        text          NOT NULL
                              CHECK (status IN ('success', 'error', 'timeout', 'rate_limited', 'cancelled')),
  error_code    text          CHECK (length(error_code) <= 200),
  request_id    text          CHECK (length(request_id) <= 200),
  chat_session_id uuid,       -- informational, no FK: usage outlives chat history
  created_at    timestamptz   NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS ai_usage_tenant_id_created_at_idx
  ON public.ai_usage (tenant_id, created_at DESC);
CREATE INDEX IF NOT EXISTS ai_usage_tenant_id_user_id_created_at_idx
  ON public.ai_usage (tenant_id, user_id, created_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ai_usage_tenant_id_feature_created_at_idx
  ON public.ai_usage (tenant_id, feature, created_at DESC);

CREATE TABLE IF NOT EXISTS public.ai_chat_sessions (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id       uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  user_id         uuid        NOT NULL,
  title           text        CHECK (length(title) <= 500),
  model           text        CHECK (length(model) <= 200),
  context_type    text        CHECK (context_type IN ('account', 'contact', 'deal', 'task', 'activity')),
  context_id      uuid,
  status          text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  last_message_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz,
  CONSTRAINT ai_chat_sessions_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT ai_chat_sessions_context_check CHECK ((context_type IS NULL) = (context_id IS NULL)),
  CONSTRAINT ai_chat_sessions_user_fkey FOREIGN KEY (tenant_id, user_id)
    REFERENCES public.users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ai_chat_sessions_tenant_id_user_id_last_message_at_idx
  ON public.ai_chat_sessions (tenant_id, user_id, last_message_at DESC NULLS LAST)
  WHERE deleted_at IS NULL;
-- Supports the user FK (ON DELETE CASCADE) regardless of deleted_at.
CREATE INDEX IF NOT EXISTS ai_chat_sessions_tenant_id_user_id_idx
  ON public.ai_chat_sessions (tenant_id, user_id);

CREATE TABLE IF NOT EXISTS public.ai_chat_messages (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  session_id    uuid        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
  content       text        NOT NULL,
  tool_name     text        CHECK (length(tool_name) <= 200),
  tool_call_id  text        CHECK (length(tool_call_id) <= 200),
  model         text        CHECK (length(model) <= 200),
  input_tokens  integer     CHECK (input_tokens >= 0),
  output_tokens integer     CHECK (output_tokens >= 0),
  metadata      jsonb       NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ai_chat_messages_tool_check CHECK (role <> 'tool' OR tool_call_id IS NOT NULL),
  CONSTRAINT ai_chat_messages_session_fkey FOREIGN KEY (tenant_id, session_id)
    REFERENCES public.ai_chat_sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS ai_chat_messages_tenant_id_session_id_created_at_idx
  ON public.ai_chat_messages (tenant_id, session_id, created_at);

-- Row level security: the standard tenant_isolation policy (helper from 001).
DO $$
BEGIN
  PERFORM public.enable_tenant_isolation('public.ai_usage');
  PERFORM public.enable_tenant_isolation('public.ai_chat_sessions');
  PERFORM public.enable_tenant_isolation('public.ai_chat_messages');
END
$$;

-- updated_at trigger (function from 002).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                  WHERE tgrelid = 'public.ai_chat_sessions'::regclass AND tgname = 'set_updated_at') THEN
    CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.ai_chat_sessions
      FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
  END IF;
END
$$;

GRANT SELECT, INSERT ON TABLE public.ai_usage TO clientforge_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.ai_chat_sessions, public.ai_chat_messages
  TO clientforge_app;

SELECT 'AI features migration complete!' AS status;
