-- Watchlist versions, their entries and templates, and the staging folders' claims (lfr_core/watchlist/).

-- Whether a version's recorded impostor evidence resolves its list (lfr_core/evaluation/impostor.py `assess`): the
-- calibration it names is of the version's own embedder, and its tail at the highest grid threshold not above
-- the version's bounds the per-comparison rate p so that 1 - (1 - p)^N stays within the target FPIR, N the
-- accepted templates.
CREATE OR REPLACE FUNCTION public.lfr_evidence_resolves(v public.watchlist_versions) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    upper double precision;
BEGIN
    IF v.evidence_calibration_id IS NULL OR v.evidence_target_fpir IS NULL THEN
        RETURN false;
    END IF;
    SELECT (point ->> 'upper')::double precision INTO upper
    FROM public.model_calibrations AS c, pg_catalog.jsonb_array_elements(c.impostor_tail) AS point
    WHERE c.id = v.evidence_calibration_id AND c.embedder_sha256 = v.embedder_sha256
      AND (point ->> 'threshold')::double precision <= v.threshold::double precision + 1e-6
    ORDER BY (point ->> 'threshold')::double precision DESC LIMIT 1;
    IF upper IS NULL OR upper >= 1 THEN
        RETURN false;
    END IF;
    RETURN 1 - pg_catalog.exp(v.entries_accepted * pg_catalog.ln(1 - upper))
           <= v.evidence_target_fpir * (1 + 1e-9);
END $$;

-- The four-eyes rule lives here: a draft is approved only by an authoriser, in their own name, who did not
-- build it; nobody else changes who built or approved a version. Which state may follow which, and when,
-- is public.state_transitions.
CREATE OR REPLACE FUNCTION public.lfr_guard_watchlist_versions() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who text := public.lfr_actor();
    rule public.state_transitions;
    what text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM public.lfr_deny('a watchlist version is never deleted; it is purged with a receipt');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('build a watchlist', 'planner', 'admin', 'system');
        IF NEW.state <> 'draft' OR num_nonnulls(NEW.approved_by, NEW.approved_at, NEW.criteria_sha256) > 0 THEN
            PERFORM public.lfr_deny('a new watchlist version starts as an unapproved draft');
        END IF;
        IF num_nonnulls(NEW.evidence_override_by, NEW.evidence_override_reason, NEW.evidence_override_at) > 0 THEN
            PERFORM public.lfr_deny('a decision to seal a list its evidence does not resolve is recorded only by approving it');
        END IF;
        IF NOT public.lfr_holds('system') AND NEW.built_by <> who THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s may not build a watchlist in the name of %s', who, NEW.built_by));
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.built_by IS DISTINCT FROM OLD.built_by
       OR NEW.deployment_id IS DISTINCT FROM OLD.deployment_id OR NEW.version IS DISTINCT FROM OLD.version THEN
        PERFORM public.lfr_deny('who built a version, and for which deployment, never changes');
    END IF;
    IF (NEW.threshold, NEW.entries_accepted, NEW.embedder_sha256, NEW.evidence_calibration_id, NEW.evidence_target_fpir,
        NEW.evidence) IS DISTINCT FROM (OLD.threshold, OLD.entries_accepted, OLD.embedder_sha256,
        OLD.evidence_calibration_id, OLD.evidence_target_fpir, OLD.evidence) THEN
        PERFORM public.lfr_deny('a version''s threshold, size, model and the evidence it was judged by never change');
    END IF;
    what := pg_catalog.format('version %s', OLD.id);
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        rule := public.lfr_transition('watchlist_version', OLD.state, NEW.state, OLD.deployment_id, what);
    END IF;
    IF 'four_eyes' = ANY (rule.requires) THEN
        IF NEW.approved_by IS DISTINCT FROM who THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s may not approve in the name of %s', who, NEW.approved_by));
        END IF;
        IF who = OLD.built_by THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s built this version; approval needs a different authoriser', who));
        END IF;
        IF NEW.approved_at IS NULL OR NEW.criteria_sha256 IS NULL THEN
            PERFORM public.lfr_deny('an approval records when it was given and the hash of what was approved');
        END IF;
        IF NEW.evidence_override_by IS NOT NULL AND (NEW.evidence_override_by IS DISTINCT FROM who
           OR pg_catalog.btrim(NEW.evidence_override_reason) = '') THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s may record a decision to seal unresolved evidence only in '
                                                      'their own name and with a reason', who));
        END IF;
    ELSIF (NEW.approved_by, NEW.approved_at, NEW.criteria_sha256, NEW.evidence_override_by,
           NEW.evidence_override_reason, NEW.evidence_override_at)
          IS DISTINCT FROM (OLD.approved_by, OLD.approved_at, OLD.criteria_sha256, OLD.evidence_override_by,
                            OLD.evidence_override_reason, OLD.evidence_override_at) THEN
        PERFORM public.lfr_deny('an approval, and a decision to seal unresolved evidence, is recorded only by '
                                'approving a draft');
    END IF;
    -- Sealing or going live needs evidence that resolves the list, or an authoriser's recorded decision.
    IF 'resolved_evidence' = ANY (rule.requires) AND NOT public.lfr_evidence_resolves(NEW)
       AND (NEW.evidence_override_by IS NULL OR NEW.evidence_override_by = OLD.built_by) THEN
        PERFORM public.lfr_deny(pg_catalog.format(
            '%s: the recorded impostor evidence does not resolve a list of %s at threshold %s (%s); an authoriser '
            'other than its builder must record the decision to seal it, with a reason', what, NEW.entries_accepted,
            NEW.threshold, coalesce(NEW.evidence ->> 'note', 'no evidence recorded')));
    END IF;
    -- Sealing needs every reference to an assessment that the deployment's policy pack requires (issue 27).
    IF 'pack_references' = ANY (rule.requires) AND public.lfr_missing_references(OLD.deployment_id) <> '{}' THEN
        PERFORM public.lfr_deny(pg_catalog.format(
            '%s cannot be approved: deployment %s runs under policy pack %s, which requires a reference to its %s '
            'before approval; the planner records it with `lfr deployment references`', what, OLD.deployment_id,
            (SELECT d.policy_name || ' v' || d.policy_version FROM public.deployments AS d WHERE d.id = OLD.deployment_id),
            pg_catalog.array_to_string(public.lfr_missing_references(OLD.deployment_id), ', ')));
    END IF;
    IF 'approved' = ANY (rule.requires) AND (OLD.approved_by IS NULL OR OLD.approved_by = OLD.built_by) THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s was never approved by an authoriser other than its builder', what));
    END IF;
    IF rule IS NULL THEN
        IF OLD.state = 'draft' THEN  -- the build completes its own draft (snapshot)
            PERFORM public.lfr_require('change a draft', 'planner', 'admin', 'system');
        ELSE  -- purge progress and receipts
            PERFORM public.lfr_require('change a sealed watchlist', 'admin', 'system');
        END IF;
    END IF;
    RETURN NEW;
END $$;

-- An entry's category is one the deployment allows and, under a policy pack, one its use case permits (Bridges
-- para 124: closed categories).
CREATE OR REPLACE FUNCTION public.lfr_check_entry_category(p_version uuid, p_category text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d public.deployments;
    use_case jsonb;
BEGIN
    SELECT dep.* INTO d FROM public.deployments AS dep JOIN public.watchlist_versions AS v ON v.deployment_id = dep.id
    WHERE v.id = p_version;
    IF NOT p_category = ANY (d.allowed_categories) THEN
        PERFORM public.lfr_deny(pg_catalog.format('category %s is not authorised for deployment %s (allowed: %s)',
                                                  p_category, d.id, pg_catalog.array_to_string(d.allowed_categories, ', ')));
    END IF;
    IF d.policy_name IS NOT NULL THEN
        use_case := public.lfr_pack_use_case(d.policy_name, d.policy_version, d.use_case);
        IF use_case IS NULL OR NOT use_case -> 'categories' ? p_category THEN
            PERFORM public.lfr_deny(pg_catalog.format('category %s is outside use case %s of policy pack %s v%s',
                                                      p_category, d.use_case, d.policy_name, d.policy_version));
        END IF;
    END IF;
END $$;

-- Entries and templates: written by the build, removed or marked only by a purge.
CREATE OR REPLACE FUNCTION public.lfr_guard_watchlist_content() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('build a watchlist', 'planner', 'admin', 'system');
        IF TG_TABLE_NAME = 'watchlist_entries' THEN
            PERFORM public.lfr_check_entry_category(NEW.version_id, NEW.category);
        END IF;
        RETURN NEW;
    END IF;
    PERFORM public.lfr_require('purge a watchlist', 'admin', 'system');
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

-- The audit row of a version's change of state (AFTER trigger, in the transaction of the change).
-- The audit rows of changes of state, written by AFTER triggers (so a row that ON CONFLICT skipped writes
-- none) in the transaction of the change.
CREATE OR REPLACE FUNCTION public.lfr_audit_version_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_audit_change('watchlist.' || NEW.state, 'watchlist_version', NEW.id::text,
        pg_catalog.jsonb_build_object('deployment_id', NEW.deployment_id, 'version', NEW.version, 'from', OLD.state)
        || CASE WHEN NEW.state = 'approved' THEN pg_catalog.jsonb_build_object('criteria_sha256', NEW.criteria_sha256)
                ELSE '{}' END
        || CASE WHEN NEW.state = 'approved' AND NEW.evidence_override_by IS NOT NULL
                THEN pg_catalog.jsonb_build_object('evidence_override_by', NEW.evidence_override_by,
                                                   'evidence_override_reason', NEW.evidence_override_reason)
                ELSE '{}' END,
        public.lfr_transition_roles('watchlist_version', OLD.state, NEW.state));
    RETURN NULL;
END $$;

-- The per-dimension HNSW index (migration 0009), redefined here with a pinned search_path.
CREATE OR REPLACE FUNCTION public.ensure_hnsw_index(dim integer, m integer, ef_construction integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF dim NOT BETWEEN 1 AND 16000 OR m NOT BETWEEN 2 AND 100 OR ef_construction NOT BETWEEN 4 AND 1000 THEN
        RAISE EXCEPTION 'HNSW parameters out of range: dim %, m %, ef_construction %', dim, m, ef_construction;
    END IF;
    EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS watchlist_embeddings_hnsw_%s ON public.watchlist_embeddings '
                              'USING hnsw ((embedding::public.vector(%s)) public.vector_cosine_ops) '
                              'WITH (m = %s, ef_construction = %s) WHERE embedding_dim = %s',
                              dim, dim, m, ef_construction, dim);
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON watchlist_versions;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON watchlist_versions
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_watchlist_versions();
DROP TRIGGER IF EXISTS lfr_guard ON watchlist_entries;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON watchlist_entries
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_watchlist_content();
DROP TRIGGER IF EXISTS lfr_guard ON watchlist_embeddings;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON watchlist_embeddings
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_watchlist_content();
DROP TRIGGER IF EXISTS lfr_guard ON staging_claims;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON staging_claims
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('claim a staging folder', 'planner', 'admin', 'system');
DROP TRIGGER IF EXISTS lfr_audit ON watchlist_versions;
CREATE TRIGGER lfr_audit AFTER UPDATE ON watchlist_versions
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION public.lfr_audit_version_change();

GRANT SELECT ON watchlist_versions, watchlist_entries, staging_claims TO lfr_person;
GRANT INSERT, UPDATE ON watchlist_versions, watchlist_entries TO lfr_planner, lfr_admin;
GRANT INSERT ON watchlist_embeddings, staging_claims TO lfr_planner, lfr_admin;
GRANT UPDATE ON watchlist_versions TO lfr_authoriser, lfr_operator;
GRANT SELECT, DELETE ON watchlist_embeddings TO lfr_admin;
