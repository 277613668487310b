/**
 * Files Table Migration
 * File storage metadata (objects live in S3-compatible storage) with virus
 * scanning state. Tenant-scoped with the standard tenant_isolation policy
 * (see 001).
 * Created: 2025-11-25
 *
 * Notes:
 *  - (bucket, object_key) is unique across all tenants: it names one physical
 *    object. The application prefixes object keys with the tenant id, so the
 *    global uniqueness check cannot reveal anything about another tenant.
 *  - The attached entity is polymorphic (entity_type + entity_id, both or
 *    neither): no FK, like notes/comments.
 *  - owner_user_id is a same-tenant composite FK, NO ACTION (users are
 *    soft-deleted; see the ON DELETE policy in 001).
 *  - The virus scanner runs as a maintenance role (not clientforge_app) and
 *    picks work from files_virus_scan_pending_idx.
 */

CREATE TABLE IF NOT EXISTS public.files (
  id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid        NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  bucket            text        NOT NULL CHECK (bucket ~ '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'),
  object_key        text        NOT NULL CHECK (length(object_key) BETWEEN 1 AND 1024),
  original_filename text        CHECK (length(original_filename) <= 1024),
  size_bytes        bigint      NOT NULL CHECK (size_bytes >= 0),
  mime_type         text        NOT NULL
                                CHECK (mime_type ~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$'
                                       AND length(mime_type) <= 255),
  sha256            text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  owner_user_id     uuid,
  entity_type       text        CHECK (entity_type IN ('account', 'contact', 'deal', 'task', 'activity', 'note', 'comment')),
  entity_id         uuid,
  virus_scan_status text        NOT NULL DEFAULT 'pending'
                                CHECK (virus_scan_status IN ('pending', 'clean', 'infected', 'error')),
  virus_scan_engine text        CHECK (length(virus_scan_engine) <= 200),
  virus_scanned_at  timestamptz,
  virus_scan_result text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz,
  CONSTRAINT files_bucket_object_key_key UNIQUE (bucket, object_key),
  CONSTRAINT files_tenant_id_id_key UNIQUE (tenant_id, id),
  CONSTRAINT files_entity_check CHECK ((entity_type IS NULL) = (entity_id IS NULL)),
  CONSTRAINT files_scanned_check CHECK (virus_scan_status = 'pending' OR virus_scanned_at IS NOT NULL),
  CONSTRAINT files_owner_fkey FOREIGN KEY (tenant_id, owner_user_id)
    REFERENCES public.users (tenant_id, id)
);
CREATE INDEX IF NOT EXISTS files_tenant_id_entity_idx
  ON public.files (tenant_id, entity_type, entity_id, created_at DESC)
  WHERE deleted_at IS NULL AND entity_type IS NOT NULL;
CREATE INDEX IF NOT EXISTS files_tenant_id_owner_user_id_idx
  ON public.files (tenant_id, owner_user_id) WHERE owner_user_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS files_tenant_id_sha256_idx
  ON public.files (tenant_id, sha256);
CREATE INDEX IF NOT EXISTS files_virus_scan_pending_idx
  ON public.files (created_at) WHERE virus_scan_status = 'pending' AND deleted_at IS NULL;

-- Row level security: the standard tenant_isolation policy (helper from 001).
DO $$
BEGIN
  PERFORM public.enable_tenant_isolation('public.files');
END
$$;

-- updated_at trigger (function from 002).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                  WHERE tgrelid = 'public.files'::regclass AND tgname = 'set_updated_at') THEN
    CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.files
      FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
  END IF;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.files TO clientforge_app;

SELECT 'Files table migration complete!' AS status;
