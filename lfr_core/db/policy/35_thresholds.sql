-- Threshold governance (issue 27 item 4, lfr_core/deployments/thresholds.py). A deployment's threshold is never
-- below its pack's floor for the model, nor, where the pack says never_below_equitability, below the lowest
-- threshold at which a recorded `lfr eval --record` of that model compared groups and flagged no difference.
-- A change of threshold is an authoriser's decision row (who, when, the evaluation, the reason, what they saw),
-- made in their own name in the transaction that changes the deployment.

-- Does a calibration's recorded equitability verdict flag a difference (FNIR or FPIR)?
CREATE OR REPLACE FUNCTION public.lfr_equitability_flagged(verdict jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((verdict -> 'ratios' -> 'fnir' ->> 'flag')::boolean, false)
        OR coalesce((verdict -> 'ratios' -> 'fpir' ->> 'flag')::boolean, false)
$$;

-- Did a verdict compare groups (at least one rate testable, lfr_core/evaluation/groups.py) and flag none? A
-- verdict over one group, or over groups too small to test, shows nothing about equitability.
CREATE OR REPLACE FUNCTION public.lfr_equitability_clear(verdict jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT NOT public.lfr_equitability_flagged(verdict)
       AND (coalesce((verdict -> 'ratios' -> 'fnir' ->> 'testable')::boolean, false)
            OR coalesce((verdict -> 'ratios' -> 'fpir' ->> 'testable')::boolean, false))
$$;

-- The floor for a model under a pack version: the pack's floor for the model (p_model NULL: the model is not known
-- yet, so the highest floor the pack names), raised to the equitability value of the model (p_embedder_sha256)
-- where the pack says so. NULL for a deployment planned before packs.
CREATE OR REPLACE FUNCTION public.lfr_threshold_floor(p_policy text, p_version integer, p_model text,
                                                      p_embedder_sha256 text) RETURNS double precision
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rule jsonb;
    floor double precision;
    equitable double precision;
BEGIN
    SELECT p.content -> 'threshold' INTO rule FROM public.policy_packs AS p
    WHERE p.name = p_policy AND p.version = p_version;
    IF rule IS NULL THEN
        RETURN NULL;
    END IF;
    IF p_model IS NULL THEN
        SELECT pg_catalog.max(f.value::text::double precision) INTO floor
        FROM pg_catalog.jsonb_each(rule -> 'floors') AS f;
        floor := greatest(floor, (rule ->> 'default_floor')::double precision);
    ELSE
        floor := coalesce((rule -> 'floors' ->> p_model)::double precision, (rule ->> 'default_floor')::double precision);
    END IF;
    IF p_embedder_sha256 IS NOT NULL AND coalesce((rule ->> 'never_below_equitability')::boolean, true) THEN
        SELECT pg_catalog.min((c.summary -> 'equitability' ->> 'threshold')::double precision) INTO equitable
        FROM public.model_calibrations AS c
        WHERE c.embedder_sha256 = p_embedder_sha256 AND c.summary ? 'equitability'
          AND public.lfr_equitability_clear(c.summary -> 'equitability');
    END IF;
    RETURN greatest(floor, coalesce(equitable, floor));
END $$;

-- A planned threshold clears the pack's highest floor (the list's model is not known until it is built); a
-- version's threshold clears its own model's floor and equitability value.
CREATE OR REPLACE FUNCTION public.lfr_check_planned_threshold(d public.deployments) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    floor double precision := public.lfr_threshold_floor(d.policy_name, d.policy_version, NULL, NULL);
BEGIN
    IF d.threshold_decision_id IS NOT NULL THEN
        PERFORM public.lfr_deny('a new deployment''s threshold is planned; a decision changes it afterwards');
    END IF;
    IF d.threshold IS NOT NULL AND floor IS NOT NULL AND d.threshold < floor - 1e-6 THEN
        PERFORM public.lfr_deny(pg_catalog.format('threshold %s is below the floor %s of policy pack %s v%s',
                                                  d.threshold, floor, d.policy_name, d.policy_version));
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_check_version_threshold(v public.watchlist_versions) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d public.deployments;
    floor double precision;
BEGIN
    SELECT * INTO d FROM public.deployments AS x WHERE x.id = v.deployment_id;
    floor := public.lfr_threshold_floor(d.policy_name, d.policy_version, v.embedder ->> 'name', v.embedder_sha256);
    IF floor IS NOT NULL AND v.threshold < floor - 1e-6 THEN
        PERFORM public.lfr_deny(pg_catalog.format(
            'threshold %s is below the floor %s for model %s under policy pack %s v%s (the pack''s floor, or the '
            'lowest value at which a recorded evaluation of the model shows no flagged difference between groups)',
            v.threshold, floor, v.embedder ->> 'name', d.policy_name, d.policy_version));
    END IF;
END $$;

-- The decision: an authoriser (assigned to the deployment, where authorisers are), in their own name, now, from the
-- threshold in force, naming an evaluation of the deployment's model whose recorded verdict shows no flagged
-- difference at or below the new value, with the preview at the new value unflagged too; never under the floor.
CREATE OR REPLACE FUNCTION public.lfr_guard_threshold_decisions() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who text := public.lfr_actor();
    d public.deployments;
    c public.model_calibrations;
    model_sha text;
    verdict jsonb;
    floor double precision;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM public.lfr_deny('a threshold decision is recorded once and never changes');
    END IF;
    PERFORM public.lfr_require('decide a deployment''s threshold', 'authoriser');
    IF NEW.decided_by IS DISTINCT FROM who THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s may record a threshold decision only in their own name', who));
    END IF;
    NEW.decided_at := pg_catalog.now();
    SELECT * INTO d FROM public.deployments AS x WHERE x.id = NEW.deployment_id;
    IF NOT FOUND OR d.status NOT IN ('planned', 'live') THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s is %s; its threshold no longer changes',
                                                  NEW.deployment_id, coalesce(d.status, 'unknown')));
    END IF;
    IF EXISTS (SELECT 1 FROM public.deployment_staff AS s WHERE s.deployment_id = d.id AND s.role = 'authoriser')
       AND NOT public.lfr_assigned(d.id, 'authoriser') THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s is not assigned to deployment %s as authoriser', who, d.id));
    END IF;
    IF d.policy_name IS NULL THEN
        PERFORM public.lfr_deny('a deployment planned before policy packs has no threshold floor; plan another');
    END IF;
    IF NEW.old_threshold IS DISTINCT FROM d.threshold THEN
        PERFORM public.lfr_deny(pg_catalog.format('the decision starts from %s, but the deployment''s threshold is %s',
                                                  NEW.old_threshold, d.threshold));
    END IF;
    SELECT * INTO c FROM public.model_calibrations AS x WHERE x.id = NEW.calibration_id;
    IF NOT FOUND OR c.embedder_sha256 IS DISTINCT FROM NEW.embedder_sha256 THEN
        PERFORM public.lfr_deny(pg_catalog.format('evaluation %s is not an evaluation of model %s',
                                                  NEW.calibration_id, NEW.embedder_sha256));
    END IF;
    SELECT v.embedder_sha256 INTO model_sha FROM public.watchlist_versions AS v
    WHERE v.deployment_id = d.id ORDER BY v.version DESC LIMIT 1;
    IF model_sha IS NOT NULL AND model_sha <> c.embedder_sha256 THEN
        PERFORM public.lfr_deny(pg_catalog.format('evaluation %s is of model %s; the deployment''s lists are built '
                                                  'with %s', c.id, c.embedder_sha256, model_sha));
    END IF;
    verdict := c.summary -> 'equitability';
    IF verdict IS NULL OR c.searches IS NULL THEN
        PERFORM public.lfr_deny(pg_catalog.format('evaluation %s recorded no per-group searches; it is no '
                                                  'equitability evaluation (lfr eval --group-by ... --record)', c.id));
    END IF;
    IF NOT public.lfr_equitability_clear(verdict)
       OR (verdict ->> 'threshold')::double precision > NEW.new_threshold + 1e-6 THEN
        PERFORM public.lfr_deny(pg_catalog.format('evaluation %s does not cover threshold %s: its recorded verdict at '
            '%s is %s', c.id, NEW.new_threshold, verdict ->> 'threshold',
            CASE WHEN public.lfr_equitability_flagged(verdict) THEN 'a flagged difference between groups'
                 WHEN NOT public.lfr_equitability_clear(verdict) THEN 'no comparison of groups (too few identities)'
                 ELSE 'above the new value' END));
    END IF;
    IF abs((NEW.preview -> 'new' ->> 'threshold')::double precision - NEW.new_threshold) > 1e-6
       OR public.lfr_equitability_flagged(NEW.preview -> 'new' -> 'per_group') THEN
        PERFORM public.lfr_deny(pg_catalog.format('the per-group rates shown at %s are missing or flag a difference '
                                                  'between groups', NEW.new_threshold));
    END IF;
    floor := public.lfr_threshold_floor(d.policy_name, d.policy_version, c.model -> 'embedder' ->> 'name',
                                        c.embedder_sha256);
    IF NEW.new_threshold < floor - 1e-6 THEN
        PERFORM public.lfr_deny(pg_catalog.format('threshold %s is below the floor %s for model %s under policy pack '
            '%s v%s', NEW.new_threshold, floor, c.model -> 'embedder' ->> 'name', d.policy_name, d.policy_version));
    END IF;
    NEW.floor := floor;
    RETURN NEW;
END $$;

-- A deployment's threshold changes only with the decision made for it, by its author, in this transaction, and
-- alone. Called by lfr_guard_deployments (30_deployments.sql).
CREATE OR REPLACE FUNCTION public.lfr_check_threshold_change(n public.deployments, o public.deployments) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t public.threshold_decisions;
    columns text[] := ARRAY['threshold', 'threshold_decision_id'];
BEGIN
    IF pg_catalog.to_jsonb(n) - columns IS DISTINCT FROM pg_catalog.to_jsonb(o) - columns THEN
        PERFORM public.lfr_deny('a threshold is changed on its own, not with other changes to a deployment');
    END IF;
    SELECT * INTO t FROM public.threshold_decisions AS x WHERE x.id = n.threshold_decision_id;
    IF n.threshold_decision_id IS NULL OR n.threshold_decision_id IS NOT DISTINCT FROM o.threshold_decision_id
       OR NOT FOUND OR t.deployment_id <> n.id OR t.new_threshold IS DISTINCT FROM n.threshold
       OR t.old_threshold IS DISTINCT FROM o.threshold OR t.decided_by <> public.lfr_actor()
       OR t.decided_at <> pg_catalog.now() THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s: a change of threshold from %s to %s needs an '
            'authoriser''s decision recorded for it now (lfr deployment threshold)', o.id, o.threshold, n.threshold));
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_audit_threshold_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t public.threshold_decisions;
BEGIN
    SELECT * INTO t FROM public.threshold_decisions AS x WHERE x.id = NEW.threshold_decision_id;
    PERFORM public.lfr_audit_change('deployment.threshold', 'deployment', NEW.id::text,
        pg_catalog.jsonb_build_object('from', OLD.threshold, 'to', NEW.threshold, 'decision_id', t.id,
                                      'evaluation_id', t.calibration_id, 'floor', t.floor, 'reason', t.reason),
        '{authoriser,system}');
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON threshold_decisions;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON threshold_decisions
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_threshold_decisions();
DROP TRIGGER IF EXISTS lfr_audit_threshold ON deployments;
CREATE TRIGGER lfr_audit_threshold AFTER UPDATE ON deployments
    FOR EACH ROW WHEN (OLD.threshold IS DISTINCT FROM NEW.threshold) EXECUTE FUNCTION public.lfr_audit_threshold_change();

GRANT SELECT ON threshold_decisions TO lfr_person;
GRANT INSERT ON threshold_decisions TO lfr_authoriser;
GRANT USAGE ON SEQUENCE threshold_decisions_id_seq TO lfr_authoriser;
GRANT UPDATE (threshold, threshold_decision_id) ON deployments TO lfr_authoriser;
