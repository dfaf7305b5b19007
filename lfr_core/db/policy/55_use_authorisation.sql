-- External prior authorisation, the urgency path and the deletion of a refused use (issue 27 item 3, issue 28
-- item 7; Regulation (EU) 2024/1689 Art 5(3); migration 0029). Where a deployment's pack requires it:
--   * an authoriser records the authority's decision (granted with authority, reference, date and scope; or
--     refused) or, before it, an urgent start with its justification, which arms the pack's urgency_hours deadline
--     computed here, not by the caller;
--   * the list goes live only when authorised or inside the urgency window (40_watchlist.sql, `authorised`);
--   * a refusal stops the use at once, in the refusal's own transaction (the lists are expired, so the live path
--     refuses its frames), and lfr_discard_use deletes every alert, held crop, review and counter of it, writing
--     the receipt; the object store's crops are deleted by lfr_core/workflow/authorisation.py in that
--     transaction. The deadline passing without a decision does the same, by the sweep.
-- Nothing here changes or deletes a recorded decision or receipt; the audit log keeps every step.

CREATE OR REPLACE FUNCTION public.lfr_guard_authorisations() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    dep public.deployments;
    pack jsonb;
    hours double precision;
    state text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM public.lfr_deny('a recorded authorisation, refusal or urgent start never changes and is never deleted');
    END IF;
    PERFORM public.lfr_require('record an external authorisation or an urgent start', 'authoriser');
    PERFORM public.lfr_require_own_name('record an authorisation', NEW.recorded_by);
    SELECT d.* INTO dep FROM public.deployments AS d WHERE d.id = NEW.deployment_id;
    SELECT p.content INTO pack FROM public.policy_packs AS p
    WHERE p.name = dep.policy_name AND p.version = dep.policy_version;
    IF NOT coalesce((pack -> 'external_authorisation' ->> 'required')::boolean, false) THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s runs under %s, which requires no external prior '
                                                  'authorisation', NEW.deployment_id,
                                                  coalesce(dep.policy_name || ' v' || dep.policy_version, 'no pack')));
    END IF;
    IF dep.status IN ('cancelled', 'closed', 'lapsed') THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s is %s; its authorisation is no longer recorded',
                                                  dep.id, dep.status));
    END IF;
    state := public.lfr_authorisation_state(NEW.deployment_id);
    NEW.recorded_at := pg_catalog.clock_timestamp();
    IF NEW.kind = 'urgent_start' THEN
        hours := (pack -> 'external_authorisation' ->> 'urgency_hours')::double precision;
        IF hours IS NULL OR hours <= 0 THEN
            PERFORM public.lfr_deny(pg_catalog.format('policy pack %s v%s allows no urgent start', dep.policy_name,
                                                      dep.policy_version));
        END IF;
        IF state <> 'missing' THEN
            PERFORM public.lfr_deny(pg_catalog.format('deployment %s: an urgent start is recorded once, before any '
                                                      'decision (its authorisation is %s)', dep.id, state));
        END IF;
        NEW.deadline := NEW.recorded_at + pg_catalog.make_interval(secs => hours * 3600);
        RETURN NEW;
    END IF;
    IF NEW.deadline IS NOT NULL OR NEW.justification IS NOT NULL THEN
        PERFORM public.lfr_deny('a decision carries no deadline or justification; those are an urgent start''s');
    END IF;
    IF state NOT IN ('missing', 'urgent') AND NOT (state = 'lapsed' AND NEW.kind = 'refused') THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s: the authority''s decision is recorded once, and a '
                                                  'use whose urgency deadline passed can only be refused (it is %s)',
                                                  dep.id, state));
    END IF;
    RETURN NEW;
END $$;

-- Stop a use at once: its sealed and live lists are expired (the live service reloads the deployment and finds no
-- active list, so it refuses the frames). Allowed to whoever stops it by 40_watchlist.sql's guard.
CREATE OR REPLACE FUNCTION public.lfr_stop_use(p_deployment uuid) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    PERFORM pg_catalog.set_config('lfr.change', '', true);
    UPDATE public.watchlist_versions SET state = 'expired'
    WHERE deployment_id = p_deployment AND state IN ('approved', 'active');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_after_authorisation() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_audit_change(
        CASE NEW.kind WHEN 'granted' THEN 'deployment.authorised' WHEN 'refused' THEN 'deployment.authorisation_refused'
                      ELSE 'deployment.urgent_start' END,
        'deployment', NEW.deployment_id::text,
        pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
            'authority', NEW.authority, 'decision_ref', NEW.decision_ref, 'decided_on', NEW.decided_on,
            'scope', NEW.scope, 'justification', NEW.justification, 'deadline', NEW.deadline,
            'recorded_by', NEW.recorded_by)),
        '{authoriser}');
    IF NEW.kind = 'refused' THEN
        PERFORM public.lfr_stop_use(NEW.deployment_id);
    END IF;
    RETURN NULL;
END $$;

-- Discard a stopped use's data, results and outputs (Art 5(3)), once, with its receipt. SECURITY DEFINER so that it
-- can delete what no person may delete; it does so only for a use whose authorisation was refused or lapsed, for
-- an authoriser (the refusal) or the platform (the sweep), and only those rows (the guards of 50_alerts.sql let a
-- stopped use's rows go, and nothing else). Returns the receipt.
CREATE OR REPLACE FUNCTION public.lfr_discard_use(p_deployment uuid, p_reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    state text := public.lfr_authorisation_state(p_deployment);
    receipt public.use_deletion_receipts;
    deleted jsonb;
    n_alerts integer;
    n_held integer;
    n_reviews integer;
    n_counters integer;
    n_lists integer;
    key_hashes jsonb;
    alert_ids jsonb;
BEGIN
    PERFORM public.lfr_require('discard a refused use', 'authoriser', 'system');
    IF state NOT IN ('refused', 'lapsed') THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s''s authorisation is %s; only a refused or lapsed '
                                                  'use is discarded', p_deployment, state));
    END IF;
    IF p_reason IS NULL OR pg_catalog.btrim(p_reason) = '' THEN
        PERFORM public.lfr_deny('a use is discarded with a reason');
    END IF;
    SELECT r.* INTO receipt FROM public.use_deletion_receipts AS r WHERE r.deployment_id = p_deployment;
    IF FOUND THEN
        RETURN pg_catalog.to_jsonb(receipt);
    END IF;
    n_lists := public.lfr_stop_use(p_deployment);
    SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
               pg_catalog.regexp_replace(a.probe_crop_uri, '^s3://[^/]+/', ''), 'UTF8')), 'hex')
               ORDER BY a.probe_crop_uri) FILTER (WHERE a.probe_crop_uri IS NOT NULL), '[]'),
           coalesce(pg_catalog.jsonb_agg(a.id::text ORDER BY a.id), '[]')
      INTO key_hashes, alert_ids
    FROM public.alerts AS a WHERE a.deployment_id = p_deployment;
    DELETE FROM public.held_alert_crops AS h USING public.alerts AS a
    WHERE h.alert_id = a.id AND a.deployment_id = p_deployment;
    GET DIAGNOSTICS n_held = ROW_COUNT;
    DELETE FROM public.alert_reviews AS r WHERE r.deployment_id = p_deployment;
    GET DIAGNOSTICS n_reviews = ROW_COUNT;
    DELETE FROM public.alerts AS a WHERE a.deployment_id = p_deployment;
    GET DIAGNOSTICS n_alerts = ROW_COUNT;
    DELETE FROM public.deployment_counters AS c WHERE c.deployment_id = p_deployment;
    GET DIAGNOSTICS n_counters = ROW_COUNT;
    deleted := pg_catalog.jsonb_build_object('alerts', n_alerts, 'held_crops', n_held, 'reviews', n_reviews,
                                             'counter_rows', n_counters, 'lists_stopped', n_lists,
                                             'crop_key_sha256', key_hashes, 'alert_ids', alert_ids,
                                             'authorisation', state);
    INSERT INTO public.use_deletion_receipts (deployment_id, reason, deleted, deleted_by)
    VALUES (p_deployment, p_reason, deleted, public.lfr_actor()) RETURNING * INTO receipt;
    PERFORM public.lfr_audit_change('deployment.use_discarded', 'deployment', p_deployment::text,
                                    pg_catalog.jsonb_build_object('reason', p_reason, 'deleted', deleted),
                                    '{authoriser,system}');
    RETURN pg_catalog.to_jsonb(receipt);
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON deployment_authorisations;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployment_authorisations
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_authorisations();
DROP TRIGGER IF EXISTS lfr_after ON deployment_authorisations;
CREATE TRIGGER lfr_after AFTER INSERT ON deployment_authorisations
    FOR EACH ROW EXECUTE FUNCTION public.lfr_after_authorisation();
-- A receipt is written by lfr_discard_use alone (as the owner) and never changes.
DROP TRIGGER IF EXISTS lfr_guard ON use_deletion_receipts;
CREATE TRIGGER lfr_guard BEFORE UPDATE OR DELETE ON use_deletion_receipts
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('change a deletion receipt', 'nobody');

REVOKE ALL ON deployment_authorisations, use_deletion_receipts FROM PUBLIC;
GRANT SELECT ON deployment_authorisations, use_deletion_receipts TO lfr_person, lfr_system;
GRANT INSERT ON deployment_authorisations TO lfr_authoriser;
REVOKE ALL ON FUNCTION public.lfr_discard_use(uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lfr_discard_use(uuid, text) TO lfr_authoriser, lfr_system;
