-- Checks that public.search_embeddings() filters on the session tenant by
-- itself, not only through RLS: run as a SUPERUSER (which bypasses RLS) after
-- the fixtures. With app.current_tenant_id = A it must return only A's rows
-- (and at least one); with no tenant set, no rows. Skipped when 011 (pgvector)
-- is not installed. Inputs: check.tenant_a, check.tenant_b (custom settings).
DO $check$
DECLARE
  a     uuid := NULLIF(current_setting('check.tenant_a', true), '')::uuid;
  b     uuid := NULLIF(current_setting('check.tenant_b', true), '')::uuid;
  n_all bigint;
  n_bad bigint;
BEGIN
  IF to_regtype('vector') IS NULL
     OR to_regprocedure('public.search_embeddings(vector,integer,text,text)') IS NULL THEN
    RAISE NOTICE 'search_embeddings() not installed; skipped';
    RETURN;
  END IF;
  IF a IS NULL OR b IS NULL THEN
    RAISE EXCEPTION 'set check.tenant_a and check.tenant_b';
  END IF;

  PERFORM set_config('app.current_tenant_id', a::text, true);
  EXECUTE $q$
    SELECT count(*), count(*) FILTER (WHERE e.tenant_id <> $1)
      FROM public.search_embeddings(array_fill(0.01::real, ARRAY[1536])::vector, 100) s
      JOIN public.embeddings e ON e.id = s.id
  $q$ INTO n_all, n_bad USING a;
  IF n_all = 0 OR n_bad <> 0 THEN
    RAISE EXCEPTION 'search_embeddings() as tenant A returned % rows, % of other tenants', n_all, n_bad;
  END IF;
  -- Nearest first: identical vector => similarity 1.
  EXECUTE $q$
    SELECT count(*) FROM public.search_embeddings(array_fill(0.01::real, ARRAY[1536])::vector, 1) s
     WHERE s.similarity > 0.999 AND s.entity_type = 'contact'
  $q$ INTO n_all;
  IF n_all <> 1 THEN
    RAISE EXCEPTION 'search_embeddings() did not return the identical vector first';
  END IF;

  PERFORM set_config('app.current_tenant_id', '', true);
  EXECUTE $q$
    SELECT count(*) FROM public.search_embeddings(array_fill(0.01::real, ARRAY[1536])::vector, 100)
  $q$ INTO n_all;
  IF n_all <> 0 THEN
    RAISE EXCEPTION 'search_embeddings() without a tenant returned % rows', n_all;
  END IF;
  RAISE NOTICE 'search_embeddings() tenant filter check passed';
END
$check$;
