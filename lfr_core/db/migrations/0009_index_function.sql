-- The application's login owns no table (lfr_core/db/harden.py), so it cannot create the per-dimension
-- HNSW index itself: this function, owned by the schema's owner, does it for a dimension and nothing else.
CREATE FUNCTION ensure_hnsw_index(dim integer, m integer, ef_construction integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
BEGIN
    IF dim NOT BETWEEN 1 AND 16000 OR m NOT BETWEEN 2 AND 100 OR ef_construction NOT BETWEEN 4 AND 1000 THEN
        RAISE EXCEPTION 'HNSW parameters out of range: dim %, m %, ef_construction %', dim, m, ef_construction;
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS watchlist_embeddings_hnsw_%s ON watchlist_embeddings '
                   'USING hnsw ((embedding::vector(%s)) vector_cosine_ops) '
                   'WITH (m = %s, ef_construction = %s) WHERE embedding_dim = %s', dim, dim, m, ef_construction, dim);
END $$;
