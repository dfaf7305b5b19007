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

-- The reliable face size of a recorded size curve (lfr_core/evaluation/conditions.py `reliable_size`, the same
-- rule): the smallest face size measured whose FNIR upper bound, and that of every larger size, stays within
-- `factor` times the bound as photographed (the first point); the worst JPEG quality at a size counts, blurred
-- conditions are left out. NULL when no size qualifies or the curve is unknown.
CREATE OR REPLACE FUNCTION public.lfr_curve_reliable_px(p_curve_id bigint, factor double precision) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pts jsonb;
    full_high double precision;
    found integer;
    r record;
BEGIN
    SELECT c.points INTO pts FROM public.model_condition_curves AS c WHERE c.id = p_curve_id;
    full_high := (pts -> 0 -> 'fnir' ->> 'high')::double precision;
    IF full_high IS NULL OR factor IS NULL THEN
        RETURN NULL;
    END IF;
    FOR r IN SELECT (e.p -> 'condition' ->> 'face_px')::integer AS px,
                    pg_catalog.bool_or(e.p -> 'fnir' ->> 'high' IS NULL) AS unknown,
                    pg_catalog.max((e.p -> 'fnir' ->> 'high')::double precision) AS worst
             FROM pg_catalog.jsonb_array_elements(pts) WITH ORDINALITY AS e(p, n)
             WHERE e.n > 1 AND e.p -> 'condition' ->> 'face_px' IS NOT NULL
               AND coalesce((e.p -> 'condition' ->> 'blur_sigma')::double precision, 0) = 0
             GROUP BY 1 ORDER BY 1 DESC LOOP
        EXIT WHEN r.unknown OR r.worst > factor * full_high;
        found := r.px;
    END LOOP;
    RETURN found;
END $$;

-- A new version's reliable face size is the one its model's evidence gives (issue 32 item 2): when a size curve
-- is recorded for its embedder, the version names the latest one and records at least the size that curve gives
-- at the factor it names, so a builder cannot lower the live gate by naming no curve, an older one, or a size
-- below the curve's. The factor it names is at most the one of its deployment's policy pack (`face_size`), so a
-- builder cannot lower the gate by naming a larger factor either; a deployment without the rule in its pack keeps
-- the factor of the configuration it was built with.
CREATE OR REPLACE FUNCTION public.lfr_check_reliable_size(v public.watchlist_versions) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    latest bigint;
    named bigint := (v.reliable_face_source ->> 'curve_id')::bigint;
    factor double precision := (v.reliable_face_source ->> 'factor')::double precision;
    pack_factor double precision;
    pack_ref text;
    px integer;
BEGIN
    SELECT (p.content -> 'face_size' ->> 'reliable_fnir_factor')::double precision, p.name || ' v' || p.version
      INTO pack_factor, pack_ref
    FROM public.deployments AS d JOIN public.policy_packs AS p ON p.name = d.policy_name AND p.version = d.policy_version
    WHERE d.id = v.deployment_id;
    IF pack_factor IS NOT NULL AND factor > pack_factor * (1 + 1e-9) THEN
        PERFORM public.lfr_deny(pg_catalog.format(
            'policy pack %s finds the reliable face size at a factor of at most %s; the version names %s',
            pack_ref, pack_factor, factor));
    END IF;
    SELECT c.id INTO latest FROM public.model_condition_curves AS c
    WHERE c.embedder_sha256 = v.embedder_sha256 ORDER BY c.recorded_at DESC, c.id DESC LIMIT 1;
    IF latest IS NULL THEN
        RETURN;
    END IF;
    IF v.reliable_face_px IS NULL OR named IS DISTINCT FROM latest THEN
        PERFORM public.lfr_deny(pg_catalog.format('a version of model %s records the reliable face size from its '
                                                  'latest size curve, #%s', v.embedder_sha256, latest));
    END IF;
    IF factor IS NULL THEN  -- no factor, no size from the curve: the version names the one it applied
        PERFORM public.lfr_deny(pg_catalog.format('a version of model %s names the factor its reliable face size '
                                                  'was found at (at most %s, policy pack %s)', v.embedder_sha256,
                                                  coalesce(pack_factor::text, 'the configuration''s'),
                                                  coalesce(pack_ref, 'none')));
    END IF;
    px := public.lfr_curve_reliable_px(latest, factor);
    IF px IS NOT NULL AND v.reliable_face_px < px THEN
        PERFORM public.lfr_deny(pg_catalog.format('size curve #%s gives a reliable face size of %s px; the version '
                                                  'records %s px', latest, px, v.reliable_face_px));
    END IF;
END $$;

-- The live gate's face size (issue 32 item 2): below the version's recorded reliable size only with an
-- authoriser's decision, in their own name, with a reason, by someone other than the list's builder; a decision
-- is recorded only with the gate it decides, and only while the list is a draft, sealed or live.
CREATE OR REPLACE FUNCTION public.lfr_check_gate(n public.watchlist_versions, o public.watchlist_versions)
RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who text := public.lfr_actor();
    gate_columns text[] := ARRAY['gate_face_px', 'gate_decided_by', 'gate_reason', 'gate_decided_at'];
BEGIN
    IF (n.reliable_face_px, n.reliable_face_source) IS DISTINCT FROM (o.reliable_face_px, o.reliable_face_source) THEN
        PERFORM public.lfr_deny('a version''s reliable face size and its source never change');
    END IF;
    IF (n.gate_face_px, n.gate_decided_by, n.gate_reason, n.gate_decided_at)
       IS NOT DISTINCT FROM (o.gate_face_px, o.gate_decided_by, o.gate_reason, o.gate_decided_at) THEN
        RETURN;
    END IF;
    PERFORM public.lfr_require('set a deployment''s live gate', 'authoriser');
    IF o.state NOT IN ('draft', 'approved', 'active') THEN
        PERFORM public.lfr_deny(pg_catalog.format('version %s is %s; its live gate no longer changes', o.id, o.state));
    END IF;
    IF pg_catalog.to_jsonb(n) - gate_columns IS DISTINCT FROM pg_catalog.to_jsonb(o) - gate_columns THEN
        PERFORM public.lfr_deny('a live gate is set on its own, not with other changes to a version');
    END IF;
    IF n.gate_decided_by IS NOT NULL AND (n.gate_decided_by IS DISTINCT FROM who OR pg_catalog.btrim(n.gate_reason) = ''
                                          OR n.gate_decided_at IS NULL) THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s may record a decision on the live gate only in their own name '
                                                  'and with a reason', who));
    END IF;
    IF n.gate_face_px IS NOT NULL AND n.gate_face_px < coalesce(n.reliable_face_px, 1) THEN
        IF n.gate_decided_by IS NULL THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'version %s: a live gate of %s px is below the recorded reliable face size of %s px; an authoriser '
                'must record the decision to run below it, with a reason', o.id, n.gate_face_px, n.reliable_face_px));
        END IF;
        IF who = o.built_by THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s built this version; a decision to run below its reliable '
                                                      'face size needs a different authoriser', who));
        END IF;
    END IF;
END $$;

-- The four-eyes rule lives here: a draft is approved only by an authoriser who answers for its deployment
-- (lfr_answers_for: assigned to it, or its authorising officer), in their own name, who did not build it; nobody
-- else changes who built or approved a version. Which state may follow which, and when,
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
        PERFORM public.lfr_require_own_name('build a watchlist', NEW.built_by, system_may => true);
        IF num_nonnulls(NEW.gate_face_px, NEW.gate_decided_by, NEW.gate_reason, NEW.gate_decided_at) > 0 THEN
            PERFORM public.lfr_deny('a new version''s live gate is its reliable face size; an authoriser decides otherwise');
        END IF;
        PERFORM public.lfr_check_reliable_size(NEW);
        PERFORM public.lfr_check_version_threshold(NEW);  -- never under the floor (35_thresholds.sql)
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
    -- A use refused, or never authorised in time, stops at once (issue 27 item 3, Art 5(3)): its sealed or live
    -- list may be expired by whoever stops it (the refusal's own trigger, the sweep), with nothing else changed.
    IF NEW.state = 'expired' AND OLD.state IN ('approved', 'active') AND public.lfr_use_stopped(OLD.deployment_id)
       AND pg_catalog.to_jsonb(NEW) - 'state' = pg_catalog.to_jsonb(OLD) - 'state' THEN
        RETURN NEW;
    END IF;
    PERFORM public.lfr_check_gate(NEW, OLD);
    IF (NEW.gate_face_px, NEW.gate_decided_by, NEW.gate_reason, NEW.gate_decided_at)
       IS DISTINCT FROM (OLD.gate_face_px, OLD.gate_decided_by, OLD.gate_reason, OLD.gate_decided_at) THEN
        RETURN NEW;  -- the gate alone changed, and lfr_check_gate allowed it
    END IF;
    what := pg_catalog.format('version %s', OLD.id);
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        rule := public.lfr_transition('watchlist_version', OLD.state, NEW.state, OLD.deployment_id, what);
    END IF;
    IF 'four_eyes' = ANY (rule.requires) THEN
        PERFORM public.lfr_require_own_name('approve', NEW.approved_by);
        IF NOT public.lfr_answers_for(OLD.deployment_id) THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s may not approve the watchlist of deployment %s: that needs '
                                                      'an authoriser assigned to it, or its authorising officer', who,
                                                      OLD.deployment_id));
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
    -- Going live needs the external prior authorisation where the pack requires it, or a live urgency window.
    IF 'authorised' = ANY (rule.requires)
       AND public.lfr_authorisation_state(OLD.deployment_id) NOT IN ('not_required', 'granted', 'urgent') THEN
        PERFORM public.lfr_deny(pg_catalog.format(
            '%s cannot go live: deployment %s runs under policy pack %s, which requires external prior authorisation '
            '(Art 5(3)), and its authorisation is %s; an authoriser records it with `lfr deployment authorise`, or '
            'an urgent start with `lfr deployment urgent-start`', what, OLD.deployment_id,
            (SELECT d.policy_name || ' v' || d.policy_version FROM public.deployments AS d WHERE d.id = OLD.deployment_id),
            public.lfr_authorisation_state(OLD.deployment_id)));
    END IF;
    IF OLD.state = 'approved' AND NEW.state = 'active' THEN
        PERFORM public.lfr_check_list_age(OLD);
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

-- Whether a subject is a child at the window's start (the APP's under-18 rule): a date of birth less than 18 years
-- before the day the window opens, or the age band under_18.
CREATE OR REPLACE FUNCTION public.lfr_under_18(p_date_of_birth date, p_age_band text, p_at timestamptz)
RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(p_age_band = 'under_18', false)
        OR coalesce(p_date_of_birth + interval '18 years' > (p_at AT TIME ZONE 'UTC')::date, false)
$$;

-- An under-18 entry (issue 27 item 5): refused when the deployment's pack does not allow children on a list,
-- and without a written rationale when it requires one (a deployment planned before packs: a rationale always).
CREATE OR REPLACE FUNCTION public.lfr_check_entry_age(e public.watchlist_entries) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d public.deployments;
    rule jsonb;
BEGIN
    SELECT dep.* INTO d FROM public.deployments AS dep JOIN public.watchlist_versions AS v ON v.deployment_id = dep.id
    WHERE v.id = e.version_id;
    IF NOT public.lfr_under_18(e.date_of_birth, e.age_band, d.window_start) THEN
        RETURN;
    END IF;
    SELECT p.content -> 'under_18' INTO rule FROM public.policy_packs AS p
    WHERE p.name = d.policy_name AND p.version = d.policy_version;
    IF rule IS NOT NULL AND NOT (rule ->> 'allowed')::boolean THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s is under 18 at the window''s start; policy pack %s v%s does not '
                                                  'allow children on a list', e.subject_ref, d.policy_name,
                                                  d.policy_version));
    END IF;
    IF coalesce((rule ->> 'rationale_required')::boolean, true) AND e.under_18_rationale IS NULL THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s is under 18 at the window''s start; an under-18 entry needs a '
                                                  'written rationale (under_18_rationale)', e.subject_ref));
    END IF;
END $$;

-- A list goes live only if it was built no more than the pack's max_list_age_hours before its window opens (the
-- APP: a list is reviewed before each deployment, not carried over).
CREATE OR REPLACE FUNCTION public.lfr_check_list_age(v public.watchlist_versions) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d public.deployments;
    hours double precision;
BEGIN
    SELECT dep.* INTO d FROM public.deployments AS dep WHERE dep.id = v.deployment_id;
    SELECT (p.content ->> 'max_list_age_hours')::double precision INTO hours FROM public.policy_packs AS p
    WHERE p.name = d.policy_name AND p.version = d.policy_version;
    IF hours IS NOT NULL AND v.built_at < d.window_start - pg_catalog.make_interval(secs => hours * 3600) THEN
        PERFORM public.lfr_deny(pg_catalog.format(
            'version %s was built at %s, more than %s hours before the window opened at %s (policy pack %s v%s); '
            'build a fresh list', v.id, v.built_at, hours, d.window_start, d.policy_name, d.policy_version));
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
            PERFORM public.lfr_check_entry_age(NEW);
        END IF;
        RETURN NEW;
    END IF;
    PERFORM public.lfr_require('purge a watchlist', 'admin', 'system');
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'watchlist_entries' THEN
        IF (NEW.legal_basis, NEW.date_of_birth, NEW.age_band, NEW.under_18_rationale)
           IS DISTINCT FROM (OLD.legal_basis, OLD.date_of_birth, OLD.age_band, OLD.under_18_rationale) THEN
            PERFORM public.lfr_deny('an entry''s legal basis, age and under-18 rationale are the build''s and never change');
        END IF;
    END IF;
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
        -- an authoriser's refusal stops a use (issue 27 item 3) in their own role
        public.lfr_transition_roles('watchlist_version', OLD.state, NEW.state) || '{authoriser}'::text[]);
    RETURN NULL;
END $$;

-- The audit row of a decision on a version's live gate (issue 32 item 2).
CREATE OR REPLACE FUNCTION public.lfr_audit_gate_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_audit_change('watchlist.gate', 'watchlist_version', NEW.id::text,
        pg_catalog.jsonb_build_object('deployment_id', NEW.deployment_id, 'version', NEW.version,
                                      'from_face_px', coalesce(OLD.gate_face_px, OLD.reliable_face_px),
                                      'gate_face_px', NEW.gate_face_px, 'reliable_face_px', NEW.reliable_face_px,
                                      'decided_by', NEW.gate_decided_by, 'reason', NEW.gate_reason),
        '{authoriser}');
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
DROP TRIGGER IF EXISTS lfr_audit_gate ON watchlist_versions;
CREATE TRIGGER lfr_audit_gate AFTER UPDATE ON watchlist_versions
    FOR EACH ROW WHEN ((OLD.gate_face_px, OLD.gate_decided_by, OLD.gate_reason, OLD.gate_decided_at)
                       IS DISTINCT FROM (NEW.gate_face_px, NEW.gate_decided_by, NEW.gate_reason, NEW.gate_decided_at))
    EXECUTE FUNCTION public.lfr_audit_gate_change();

GRANT SELECT ON watchlist_versions, watchlist_entries, staging_claims TO lfr_person;
GRANT INSERT, UPDATE ON watchlist_versions, watchlist_entries TO lfr_planner, lfr_admin;
GRANT INSERT ON watchlist_embeddings, staging_claims TO lfr_planner, lfr_admin;
GRANT UPDATE ON watchlist_versions TO lfr_authoriser, lfr_operator;
GRANT SELECT, DELETE ON watchlist_embeddings TO lfr_admin;
