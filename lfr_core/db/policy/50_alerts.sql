-- Alerts, the frame counters and the held probe crops (lfr_core/alerts/).

-- How long an officer may take back their own decision on an alert (the console's undo).
CREATE OR REPLACE FUNCTION public.lfr_undo_window() RETURNS interval
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$ SELECT interval '30 seconds' $$;

-- Whether the deployment's pack requires two-person verification (issue 28 item 2, AI Act Art 14(5)); false for a
-- deployment planned before packs existed.
CREATE OR REPLACE FUNCTION public.lfr_two_person(p_deployment uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT (p.content ->> 'two_person_verification')::boolean
                     FROM public.deployments AS d
                     JOIN public.policy_packs AS p ON p.name = d.policy_name AND p.version = d.policy_version
                     WHERE d.id = p_deployment), false)
$$;

-- Alerts: raised by the live service only; decided by an operator of the deployment (or an admin) in their
-- own name, once; a legal hold by an admin; the facts of an alert never change. Under a pack that requires
-- two-person verification, each of the two assessments is by a different operator assigned to the deployment,
-- the second after the first (and never in the same statement), and no engagement result before both.
CREATE OR REPLACE FUNCTION public.lfr_guard_alerts() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who text := public.lfr_actor();
    two_person boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('raise an alert', 'system');
        IF public.lfr_use_stopped(NEW.deployment_id) THEN  -- a frame in flight when the use was refused (Art 5(3))
            PERFORM public.lfr_deny(pg_catalog.format('deployment %s''s use was stopped: its authorisation was refused '
                                                      'or not given in time; no alert is raised', NEW.deployment_id));
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF public.lfr_use_stopped(OLD.deployment_id) THEN  -- discarded with its use (55_use_authorisation.sql)
            RETURN OLD;
        END IF;
        PERFORM public.lfr_require('delete an alert', 'system');
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.deployment_id, NEW.version_id, NEW.subject_ref, NEW.category, NEW.score, NEW.camera_id,
        NEW.track_id, NEW.captured_at, NEW.raised_at, NEW.migrated_from)
       IS DISTINCT FROM (OLD.id, OLD.deployment_id, OLD.version_id, OLD.subject_ref, OLD.category, OLD.score,
                         OLD.camera_id, OLD.track_id, OLD.captured_at, OLD.raised_at, OLD.migrated_from) THEN
        PERFORM public.lfr_deny('the facts of an alert never change');
    END IF;
    -- Read only for a person's decision: the live service's own changes (an image's place) need no pack.
    IF (NEW.status, NEW.adjudicated_by, NEW.adjudicated_at, NEW.outcome, NEW.second_status, NEW.second_by,
        NEW.second_at, NEW.engagement, NEW.engagement_by, NEW.engagement_at, NEW.engagement_note, NEW.disposal)
       IS DISTINCT FROM (OLD.status, OLD.adjudicated_by, OLD.adjudicated_at, OLD.outcome, OLD.second_status,
                         OLD.second_by, OLD.second_at, OLD.engagement, OLD.engagement_by, OLD.engagement_at,
                         OLD.engagement_note, OLD.disposal) THEN
        two_person := public.lfr_two_person(OLD.deployment_id);
    END IF;
    IF (NEW.status, NEW.adjudicated_by, NEW.adjudicated_at, NEW.outcome)
       IS DISTINCT FROM (OLD.status, OLD.adjudicated_by, OLD.adjudicated_at, OLD.outcome) THEN
        PERFORM public.lfr_require('adjudicate an alert', 'operator', 'admin');
        IF NEW.status = 'pending' THEN
            -- An undo: only the decider's own, within the undo window, before an engagement is recorded.
            IF OLD.status = 'pending' OR OLD.adjudicated_by IS DISTINCT FROM who
               OR OLD.adjudicated_at < pg_catalog.now() - public.lfr_undo_window() OR OLD.engagement IS NOT NULL
               OR OLD.second_status IS NOT NULL
               OR num_nonnulls(NEW.adjudicated_by, NEW.adjudicated_at, NEW.outcome) > 0 THEN
                PERFORM public.lfr_deny(pg_catalog.format(
                    'the decision on alert %s can be undone only by %s, within %s of it and before an engagement is '
                    'recorded (or a second verifier has decided)', OLD.id, coalesce(OLD.adjudicated_by, 'its decider'),
                    public.lfr_undo_window()));
            END IF;
        ELSE
            IF OLD.status <> 'pending' THEN
                PERFORM public.lfr_deny(pg_catalog.format('alert %s was already adjudicated (%s by %s)', OLD.id,
                                                          OLD.status, OLD.adjudicated_by));
            END IF;
            PERFORM public.lfr_require_own_name('decide an alert', NEW.adjudicated_by);
            IF two_person AND NOT public.lfr_assigned(OLD.deployment_id, 'operator') THEN
                PERFORM public.lfr_deny(pg_catalog.format(
                    '%s is not an operator assigned to deployment %s: under two-person verification only its '
                    'assigned officers verify an alert', who, OLD.deployment_id));
            END IF;
        END IF;
    END IF;
    -- The second verifier's own assessment (issue 28 item 2), once, after the first and in a change of its own.
    IF (NEW.second_status, NEW.second_by, NEW.second_at) IS DISTINCT FROM (OLD.second_status, OLD.second_by, OLD.second_at)
    THEN
        PERFORM public.lfr_require('verify an alert', 'operator', 'admin');
        IF NOT two_person THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'the pack of deployment %s does not ask for a second verifier', OLD.deployment_id));
        END IF;
        IF OLD.second_status IS NOT NULL OR OLD.status = 'pending' OR NEW.status IS DISTINCT FROM OLD.status
           OR NEW.second_status IS NULL THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'alert %s is verified separately by two officers, each once, the second after the first (it is %s%s)',
                OLD.id, OLD.status, CASE WHEN OLD.second_status IS NULL THEN ''
                                         ELSE ', second verifier ' || OLD.second_by END));
        END IF;
        PERFORM public.lfr_require_own_name('verify an alert', NEW.second_by);
        IF who = OLD.adjudicated_by THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                '%s made the first assessment of alert %s; the second verifier is another officer', who, OLD.id));
        END IF;
        IF NOT public.lfr_assigned(OLD.deployment_id, 'operator') THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                '%s is not an operator assigned to deployment %s, so may not verify its alerts', who,
                OLD.deployment_id));
        END IF;
    END IF;
    -- The engagement result (issue 28 item 1), once, for a match already judged viable (status 'confirmed' before
    -- and after: the assessment comes first, in its own change), with its outcome exactly when the person was
    -- engaged; an undone or declined match has none.
    IF (NEW.engagement, NEW.engagement_by, NEW.engagement_at, NEW.engagement_note, NEW.disposal)
       IS DISTINCT FROM (OLD.engagement, OLD.engagement_by, OLD.engagement_at, OLD.engagement_note, OLD.disposal) THEN
        PERFORM public.lfr_require('record what came of an engagement', 'operator', 'admin');
        IF OLD.status <> 'confirmed' OR NEW.status <> 'confirmed' OR OLD.engagement IS NOT NULL
           OR NEW.engagement IS NULL THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'an engagement result is recorded once, after the match is judged viable (alert %s is %s%s)', OLD.id,
                OLD.status, CASE WHEN OLD.engagement IS NULL THEN '' ELSE ', result ' || OLD.engagement END));
        END IF;
        IF (NEW.disposal IS NULL) = (NEW.engagement IN ('subject', 'someone_else')) THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'an outcome (arrest, other, no action) is recorded exactly when the person was engaged (result %s)',
                NEW.engagement));
        END IF;
        IF two_person AND (OLD.second_status IS DISTINCT FROM 'confirmed'
                           OR NEW.second_status IS DISTINCT FROM 'confirmed') THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'alert %s is not verified by two officers (%s): no engagement result before that', OLD.id,
                CASE WHEN OLD.second_status IS NULL THEN 'awaiting second verifier'
                     ELSE 'the second verifier judged it ' || OLD.second_status END));
        END IF;
        PERFORM public.lfr_require_own_name('record an outcome', NEW.engagement_by);
    END IF;
    IF NEW.legal_hold IS DISTINCT FROM OLD.legal_hold THEN
        PERFORM public.lfr_require('change a legal hold', 'admin');
    END IF;
    IF NEW.probe_crop_uri IS DISTINCT FROM OLD.probe_crop_uri
       OR (NEW.watchlist_image_uri IS DISTINCT FROM OLD.watchlist_image_uri AND NEW.watchlist_image_uri IS NOT NULL) THEN
        PERFORM public.lfr_require('change where an alert''s images are', 'system');
    END IF;
    RETURN NEW;
END $$;

-- The audit rows of an alert's decisions, outcome and hold (AFTER trigger, in the transaction of the change).
CREATE OR REPLACE FUNCTION public.lfr_audit_alert_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    facts jsonb := pg_catalog.jsonb_build_object('deployment_id', NEW.deployment_id);
    deciders text[] := '{operator,admin}';
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status AND NEW.status = 'pending' THEN
        PERFORM public.lfr_audit_change('alert.undone', 'alert', NEW.id::text,
                                        facts || pg_catalog.jsonb_build_object('undone', OLD.status), deciders);
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM public.lfr_audit_change('alert.' || NEW.status, 'alert', NEW.id::text,
                                        facts || pg_catalog.jsonb_build_object('subject_ref', NEW.subject_ref), deciders);
    END IF;
    IF NEW.second_status IS DISTINCT FROM OLD.second_status THEN
        PERFORM public.lfr_audit_change('alert.second.' || NEW.second_status, 'alert', NEW.id::text,
                                        facts || pg_catalog.jsonb_build_object('subject_ref', NEW.subject_ref),
                                        '{operator,admin}');
    END IF;
    IF NEW.engagement IS DISTINCT FROM OLD.engagement THEN
        PERFORM public.lfr_audit_change('alert.engagement.' || NEW.engagement, 'alert', NEW.id::text,
                                        facts || pg_catalog.jsonb_build_object('disposal', NEW.disposal), deciders);
    END IF;
    IF NEW.legal_hold IS DISTINCT FROM OLD.legal_hold THEN
        PERFORM public.lfr_audit_change(CASE WHEN NEW.legal_hold THEN 'alert.hold' ELSE 'alert.release' END, 'alert',
                                        NEW.id::text, facts, '{admin}');
    END IF;
    RETURN NULL;
END $$;

-- Counters: the live service's alone, except that a refused or lapsed use's are discarded with it.
CREATE OR REPLACE FUNCTION public.lfr_guard_counters() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' AND public.lfr_use_stopped(OLD.deployment_id) THEN  -- 55_use_authorisation.sql
        RETURN OLD;
    END IF;
    PERFORM public.lfr_require('count frames', 'system');
    IF TG_OP <> 'DELETE' AND public.lfr_use_stopped(NEW.deployment_id) THEN
        RETURN NULL;  -- a discarded use counts nothing more (Art 5(3)): its frames leave no number behind
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON alerts;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON alerts
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_alerts();
DROP TRIGGER IF EXISTS lfr_guard ON deployment_counters;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployment_counters
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_counters();
DROP TRIGGER IF EXISTS lfr_audit ON alerts;
CREATE TRIGGER lfr_audit AFTER UPDATE ON alerts
    FOR EACH ROW WHEN ((OLD.status, OLD.engagement, OLD.legal_hold, OLD.second_status)
                       IS DISTINCT FROM (NEW.status, NEW.engagement, NEW.legal_hold, NEW.second_status))
    EXECUTE FUNCTION public.lfr_audit_alert_change();

-- An operator sees and decides only the alerts of deployments they are assigned to; an admin or auditor
-- sees all; the live service (lfr_system) raises and retires them. Other people see none.
ALTER TABLE alerts ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS alerts_service ON alerts;
CREATE POLICY alerts_service ON alerts TO lfr_system USING (true) WITH CHECK (true);
DROP POLICY IF EXISTS alerts_assigned_operator ON alerts;
CREATE POLICY alerts_assigned_operator ON alerts TO lfr_operator
    USING (public.lfr_assigned(deployment_id, 'operator')) WITH CHECK (public.lfr_assigned(deployment_id, 'operator'));
DROP POLICY IF EXISTS alerts_oversight ON alerts;
CREATE POLICY alerts_oversight ON alerts FOR SELECT TO lfr_admin, lfr_auditor USING (true);
DROP POLICY IF EXISTS alerts_admin ON alerts;
CREATE POLICY alerts_admin ON alerts FOR UPDATE TO lfr_admin USING (true) WITH CHECK (true);

GRANT SELECT ON alerts, deployment_counters TO lfr_person;
GRANT UPDATE ON alerts TO lfr_operator, lfr_admin;

-- ======================================================================================================
-- Post-deployment reviews (migration 0026, issue 28 item 5). After the window, an admin assigns each true alert
-- left unconfirmed and each false alert to a reviewer (an operator, admin or auditor who took no part in its
-- decision); only that reviewer records the finding, once, in their own name. A review is never deleted.
-- ======================================================================================================
CREATE OR REPLACE FUNCTION public.lfr_alert_class(p_status text, p_engagement text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN p_status = 'declined' THEN 'false_unconfirmed'
                WHEN p_status <> 'confirmed' THEN NULL
                WHEN p_engagement = 'subject' THEN 'true_confirmed'
                WHEN p_engagement = 'someone_else' THEN 'false_confirmed'
                WHEN p_engagement IN ('evaded', 'not_engaged') THEN 'true_unconfirmed' END
$$;

-- The same, where a second verifier's assessment counts too (issue 28 item 2): a match either officer judged not
-- viable is a false alert, unconfirmed.
CREATE OR REPLACE FUNCTION public.lfr_alert_class(p_status text, p_engagement text, p_second text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN p_second = 'declined' THEN 'false_unconfirmed'
                ELSE public.lfr_alert_class(p_status, p_engagement) END
$$;

CREATE OR REPLACE FUNCTION public.lfr_guard_alert_reviews() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who text := public.lfr_actor();
    alert record;
    window_end timestamptz;
BEGIN
    IF TG_OP = 'DELETE' AND public.lfr_use_stopped(OLD.deployment_id) THEN  -- discarded with its use
        RETURN OLD;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM public.lfr_deny('a post-deployment review is never deleted');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('assign a post-deployment review', 'admin');
        IF NEW.assigned_by IS DISTINCT FROM who OR NEW.finding IS NOT NULL OR NEW.reviewed_at IS NOT NULL THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s assigns a review open, in their own name', who));
        END IF;
        SELECT a.deployment_id, a.status, a.engagement, a.second_status, a.adjudicated_by, a.second_by, a.engagement_by
        INTO alert
        FROM public.alerts AS a WHERE a.id = NEW.alert_id;
        IF NOT FOUND OR alert.deployment_id IS DISTINCT FROM NEW.deployment_id THEN
            PERFORM public.lfr_deny(pg_catalog.format('no alert %s of deployment %s', NEW.alert_id, NEW.deployment_id));
        END IF;
        IF public.lfr_alert_class(alert.status, alert.engagement, alert.second_status) IS DISTINCT FROM NEW.alert_class
           OR NEW.alert_class NOT IN ('true_unconfirmed', 'false_confirmed', 'false_unconfirmed') THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'alert %s is %s: only a true alert left unconfirmed and a false alert are reviewed', NEW.alert_id,
                coalesce(public.lfr_alert_class(alert.status, alert.engagement, alert.second_status), 'not decided yet')));
        END IF;
        SELECT d.window_end INTO window_end FROM public.deployments AS d WHERE d.id = NEW.deployment_id;
        IF window_end > pg_catalog.now() THEN
            PERFORM public.lfr_deny(pg_catalog.format('a review is assigned after the window, which ends at %s',
                                                      window_end));
        END IF;
        IF NEW.reviewer IN (alert.adjudicated_by, alert.second_by, alert.engagement_by) THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s decided alert %s and may not review it', NEW.reviewer,
                                                      NEW.alert_id));
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r JOIN pg_catalog.pg_roles AS g
                         ON g.rolname IN ('lfr_operator', 'lfr_admin', 'lfr_auditor')
                       WHERE r.rolname = NEW.reviewer AND r.rolcanlogin
                         AND pg_catalog.pg_has_role(r.oid, g.oid, 'USAGE')) THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s is not an operator, admin or auditor who can sign in',
                                                      NEW.reviewer));
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.alert_id, NEW.deployment_id, NEW.alert_class, NEW.reviewer, NEW.assigned_by, NEW.assigned_at)
       IS DISTINCT FROM (OLD.alert_id, OLD.deployment_id, OLD.alert_class, OLD.reviewer, OLD.assigned_by,
                         OLD.assigned_at) THEN
        PERFORM public.lfr_deny('a review''s assignment never changes');
    END IF;
    IF OLD.finding IS NOT NULL OR NEW.finding IS NULL THEN
        PERFORM public.lfr_deny(pg_catalog.format('the review of alert %s %s', OLD.alert_id,
            CASE WHEN OLD.finding IS NULL THEN 'needs a finding' ELSE 'is done; a finding is recorded once' END));
    END IF;
    IF who IS DISTINCT FROM OLD.reviewer THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s is not the reviewer of alert %s (%s is)', who, OLD.alert_id,
                                                  OLD.reviewer));
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_audit_alert_review() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    facts jsonb := pg_catalog.jsonb_build_object('deployment_id', NEW.deployment_id, 'alert_class', NEW.alert_class,
                                                 'reviewer', NEW.reviewer);
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_audit_change('alert.review.assigned', 'alert', NEW.alert_id::text, facts, '{admin}');
    ELSE
        PERFORM public.lfr_audit_change('alert.review.done', 'alert', NEW.alert_id::text,
                                        facts || pg_catalog.jsonb_build_object('finding', NEW.finding),
                                        '{operator,admin,auditor}');
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON public.alert_reviews;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON public.alert_reviews
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_alert_reviews();
DROP TRIGGER IF EXISTS lfr_audit ON public.alert_reviews;
CREATE TRIGGER lfr_audit AFTER INSERT OR UPDATE ON public.alert_reviews
    FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_alert_review();

ALTER TABLE public.alert_reviews ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS alert_reviews_oversight ON public.alert_reviews;
CREATE POLICY alert_reviews_oversight ON public.alert_reviews FOR SELECT TO lfr_admin, lfr_auditor, lfr_system
    USING (true);
DROP POLICY IF EXISTS alert_reviews_assign ON public.alert_reviews;
CREATE POLICY alert_reviews_assign ON public.alert_reviews FOR INSERT TO lfr_admin WITH CHECK (true);
DROP POLICY IF EXISTS alert_reviews_reviewer ON public.alert_reviews;
CREATE POLICY alert_reviews_reviewer ON public.alert_reviews TO lfr_operator, lfr_admin, lfr_auditor
    USING (reviewer = public.lfr_actor()) WITH CHECK (reviewer = public.lfr_actor());
REVOKE ALL ON public.alert_reviews FROM PUBLIC;
GRANT SELECT ON public.alert_reviews TO lfr_person, lfr_system;
GRANT INSERT ON public.alert_reviews TO lfr_admin;
GRANT UPDATE (finding, reviewed_at) ON public.alert_reviews TO lfr_operator, lfr_admin, lfr_auditor;

-- ======================================================================================================
-- Held alert crops (lfr_core/db/migrations/0014_held_alert_crops.sql). The probe crop of an alert raised
-- while the object store was down waits here, written with its alert row and audit record, until the live
-- service moves it to the store (lfr_core/alerts/service.py). Only the live service (lfr_system) reads or writes
-- it: no person's group has a right on the table, row-level security shows its rows to the service alone,
-- and the trigger refuses a change by anyone else. A person sees a held crop only through the officers'
-- route, which logs the consultation with its reason first (ray_apps/ingress/officers.py).
-- ======================================================================================================
CREATE OR REPLACE FUNCTION public.lfr_guard_held_alert_crops() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM public.alerts AS a WHERE a.id = OLD.alert_id
                                    AND public.lfr_use_stopped(a.deployment_id)) THEN  -- discarded with its use
        RETURN OLD;
    END IF;
    PERFORM public.lfr_require('hold or move an alert''s probe crop', 'system');
    IF TG_OP = 'UPDATE' THEN
        PERFORM public.lfr_deny('a held probe crop never changes: it is moved to the object store, then deleted');
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
DROP TRIGGER IF EXISTS lfr_guard ON public.held_alert_crops;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON public.held_alert_crops
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_held_alert_crops();
ALTER TABLE public.held_alert_crops ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS held_alert_crops_service ON public.held_alert_crops;
CREATE POLICY held_alert_crops_service ON public.held_alert_crops TO lfr_system USING (true) WITH CHECK (true);
REVOKE ALL ON public.held_alert_crops FROM PUBLIC, lfr_person, lfr_planner, lfr_authoriser, lfr_operator, lfr_admin,
    lfr_auditor;
