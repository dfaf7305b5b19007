-- The authoriser sees and tests what they seal (issue 27 item 6; lfr_core/watchlist/inspection.py). The accepted
-- faces of a version and a probe test against its templates are consultations of personal data: only an
-- authoriser assigned to the version's deployment, or its authorising officer (whom the approval asks as well:
-- lfr_core/workflow/approval.py respondents), may make them, and the consultation is written to the audit
-- log here, in their own name and with their reason, before anything is returned, so no interface (CLI, Airflow
-- page, direct SQL) can show a face or a score unrecorded. A probe's embedding is a parameter only: nothing here
-- stores it.

-- The gate and the record of one consultation; returns the version consulted.
CREATE OR REPLACE FUNCTION public.lfr_consult_watchlist(p_version uuid, p_what text, p_reason text,
                                                        p_details jsonb) RETURNS public.watchlist_versions
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v public.watchlist_versions;
    reason text := pg_catalog.btrim(coalesce(p_reason, ''));
BEGIN
    IF p_what NOT IN ('watchlist_faces', 'watchlist_probe') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = pg_catalog.format(
            'unknown consultation %s', p_what);
    END IF;
    SELECT * INTO v FROM public.watchlist_versions AS w WHERE w.id = p_version;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found', MESSAGE = pg_catalog.format('no watchlist version %s', p_version);
    END IF;
    IF NOT public.lfr_answers_for(v.deployment_id) THEN
        PERFORM public.lfr_deny(pg_catalog.format(
            '%s may not view or probe watchlist version %s: that needs an authoriser assigned to deployment %s, '
            'or its authorising officer', public.lfr_actor(), v.id, v.deployment_id));
    END IF;
    IF pg_catalog.length(reason) NOT BETWEEN 3 AND 500 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE =
            'state why you are viewing this (a reason of 3 to 500 characters): every consultation is logged with it';
    END IF;
    IF v.state IN ('purging', 'purged') THEN
        PERFORM public.lfr_deny(pg_catalog.format('watchlist version %s is %s: its faces are gone', v.id, v.state));
    END IF;
    PERFORM public.lfr_audit_row('consulted.' || p_what, 'watchlist_version', v.id::text, public.lfr_actor(),
                                 'authoriser', coalesce(p_details, '{}')
                                 || pg_catalog.jsonb_build_object('reason', reason, 'deployment_id', v.deployment_id,
                                                                  'version', v.version, 'state', v.state));
    RETURN v;
END $$;
REVOKE ALL ON FUNCTION public.lfr_consult_watchlist(uuid, text, text, jsonb) FROM PUBLIC;

-- One page of a version's accepted entries (the face's box is in `quality`), recorded as a consultation naming
-- the entries shown.
CREATE OR REPLACE FUNCTION public.lfr_watchlist_faces(p_version uuid, p_page integer, p_per_page integer,
                                                      p_reason text)
RETURNS TABLE (entry_id bigint, subject_ref text, image_index integer, category text, image_uri text, quality jsonb)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    shown bigint[];
BEGIN
    IF p_page < 1 OR p_per_page NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'pages start at 1 and hold 1 to 200 faces';
    END IF;
    SELECT pg_catalog.array_agg(x.id ORDER BY x.id) INTO shown FROM (
        SELECT e.id FROM public.watchlist_entries AS e WHERE e.version_id = p_version AND e.status = 'accepted'
        ORDER BY e.id OFFSET (p_page - 1)::bigint * p_per_page LIMIT p_per_page) AS x;
    PERFORM public.lfr_consult_watchlist(p_version, 'watchlist_faces', p_reason, pg_catalog.jsonb_build_object(
        'page', p_page, 'per_page', p_per_page, 'entries', coalesce(shown, '{}')));
    RETURN QUERY SELECT e.id, e.subject_ref, e.image_index, e.category, e.image_uri, e.quality
                 FROM public.watchlist_entries AS e WHERE e.id = ANY (coalesce(shown, '{}')) ORDER BY e.id;
END $$;
REVOKE ALL ON FUNCTION public.lfr_watchlist_faces(uuid, integer, integer, text) FROM PUBLIC;

-- The top `p_k` templates of the version for each probe embedding (exact cosine similarity: a list is small),
-- recorded as one consultation. The embeddings come as pgvector text ('[x,y,...]') and are never written.
CREATE OR REPLACE FUNCTION public.lfr_probe_watchlist(p_version uuid, p_probes text[], p_k integer, p_reason text)
RETURNS TABLE (probe integer, entry_id bigint, subject_ref text, image_index integer, category text,
               score double precision)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
    v public.watchlist_versions;
BEGIN
    IF p_k NOT BETWEEN 1 AND 20 OR coalesce(pg_catalog.cardinality(p_probes), 0) > 50 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'a probe test asks for 1 to 20 candidates for at most 50 faces';
    END IF;
    v := public.lfr_consult_watchlist(p_version, 'watchlist_probe', p_reason, pg_catalog.jsonb_build_object(
        'faces', coalesce(pg_catalog.cardinality(p_probes), 0), 'candidates', p_k));
    IF EXISTS (SELECT 1 FROM pg_catalog.unnest(p_probes) AS q
               WHERE public.vector_dims(q::public.vector) <> v.embedding_dim) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = pg_catalog.format(
            'a probe embedding must have the version''s %s dimensions', v.embedding_dim);
    END IF;
    RETURN QUERY
        SELECT p.n::integer, c.entry_id, c.subject_ref, c.image_index, c.category, c.score
        FROM pg_catalog.unnest(p_probes) WITH ORDINALITY AS p(q, n)
        CROSS JOIN LATERAL (
            SELECT e.entry_id, w.subject_ref, w.image_index, w.category,
                   (1 - (e.embedding OPERATOR(public.<=>) p.q::public.vector))::double precision AS score
            FROM public.watchlist_embeddings AS e JOIN public.watchlist_entries AS w ON w.id = e.entry_id
            WHERE e.version_id = p_version
            ORDER BY e.embedding OPERATOR(public.<=>) p.q::public.vector LIMIT p_k) AS c
        ORDER BY p.n, c.score DESC;
END $$;
REVOKE ALL ON FUNCTION public.lfr_probe_watchlist(uuid, text[], integer, text) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION public.lfr_watchlist_faces(uuid, integer, integer, text) TO lfr_person;  -- it checks
GRANT EXECUTE ON FUNCTION public.lfr_probe_watchlist(uuid, text[], integer, text) TO lfr_person;  -- it checks
