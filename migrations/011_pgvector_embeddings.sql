/**
 * pgvector Embeddings Migration
 * Vector embeddings for semantic search over CRM entities: the embeddings
 * table (tenant-scoped, standard tenant_isolation policy, see 001), an HNSW
 * cosine index and public.search_embeddings(), a similarity search that only
 * returns the current tenant's rows.
 * Created: 2025-11-25
 *
 * Requirements: pgvector >= 0.5 (HNSW). On a server without pgvector this
 * migration fails with the server's own "extension not available" error, by
 * design.
 *
 * Notes:
 *  - Dimension: the column is vector(1536) (OpenAI text-embedding-3-small /
 *    ada-002 size). HNSW needs a fixed dimension; a model with a different
 *    size needs its own column/table (or an expression index with a cast and
 *    a partial predicate on model) in a later migration. "dimensions" records
 *    the model's output size and must match the vector.
 *  - content_sha256 is the SHA-256 (hex) of the text that was embedded; the
 *    application re-embeds when the source text's hash differs (staleness).
 *  - One row per (entity, model, chunk).
 *  - Tenant filtering with HNSW is a post-filter: the index returns the
 *    nearest candidates across all tenants (hnsw.ef_search, default 40) and
 *    rows of other tenants are then discarded, so a small tenant can get fewer
 *    than match_count rows. For small tenants the planner uses the tenant_id
 *    btree index and an exact sort instead. With pgvector >= 0.8 the caller
 *    can SET LOCAL hnsw.iterative_scan = relaxed_order; otherwise raise
 *    hnsw.ef_search for the transaction.
 */

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE IF NOT EXISTS public.embeddings (
  id             uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id      uuid         NOT NULL REFERENCES public.tenants (id) ON DELETE CASCADE,
  entity_type    text         NOT NULL
                              CHECK (entity_type IN ('account', 'contact', 'deal', 'task', 'activity', 'note', 'comment', 'file')),
  entity_id      uuid         NOT NULL,
  chunk_index    integer      NOT NULL DEFAULT 0 CHECK (chunk_index >= 0),
  model          text         NOT NULL CHECK (btrim(model) <> '' AND length(model) <= 200),
  dimensions     integer      NOT NULL DEFAULT 1536,
  embedding      vector(1536) NOT NULL,
  content_sha256 text         NOT NULL CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
  created_at     timestamptz  NOT NULL DEFAULT now(),
  updated_at     timestamptz  NOT NULL DEFAULT now(),
  CONSTRAINT embeddings_dimensions_check CHECK (dimensions = vector_dims(embedding)),
  CONSTRAINT embeddings_entity_model_chunk_key UNIQUE (tenant_id, entity_type, entity_id, model, chunk_index)
);
-- The unique constraint above leads with tenant_id and serves the per-entity
-- lookups (staleness checks, re-embedding, deletes).
CREATE INDEX IF NOT EXISTS embeddings_embedding_hnsw_idx
  ON public.embeddings USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);

-- Row level security: the standard tenant_isolation policy (helper from 001).
DO $$
BEGIN
  PERFORM public.enable_tenant_isolation('public.embeddings');
END
$$;

-- updated_at trigger (function from 002).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                  WHERE tgrelid = 'public.embeddings'::regclass AND tgname = 'set_updated_at') THEN
    CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.embeddings
      FOR EACH ROW EXECUTE FUNCTION public.set_updated_at();
  END IF;
END
$$;

-- Cosine similarity search restricted to the session's tenant: the explicit
-- tenant predicate (same expression as the policy) plus RLS, which applies
-- because the function is SECURITY INVOKER. No tenant set => no rows.
-- Plain SQL without SET options so the planner can inline it. The <=>
-- operator resolves through the caller's search_path (pgvector's schema,
-- normally public).
CREATE OR REPLACE FUNCTION public.search_embeddings(
    p_query       vector,
    p_match_count integer DEFAULT 10,
    p_entity_type text    DEFAULT NULL,
    p_model       text    DEFAULT NULL)
  RETURNS TABLE (id uuid, entity_type text, entity_id uuid, chunk_index integer,
                 model text, similarity double precision)
  LANGUAGE sql
  STABLE
  SECURITY INVOKER
AS $$
  SELECT e.id, e.entity_type, e.entity_id, e.chunk_index, e.model,
         1 - (e.embedding <=> p_query) AS similarity
    FROM public.embeddings e
   WHERE e.tenant_id = NULLIF(current_setting('app.current_tenant_id', true), '')::uuid
     AND (p_entity_type IS NULL OR e.entity_type = p_entity_type)
     AND (p_model IS NULL OR e.model = p_model)
   ORDER BY e.embedding <=> p_query
   LIMIT least(greatest(coalesce(p_match_count, 10), 1), 1000)
$$;
REVOKE ALL ON FUNCTION public.search_embeddings(vector, integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.search_embeddings(vector, integer, text, text) TO clientforge_app;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.embeddings TO clientforge_app;

SELECT 'pgvector embeddings migration complete!' AS status;
