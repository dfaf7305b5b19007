-- Deployments, their staff and their camera keys (lfr_core/deployments/), and the policy packs they run under.

-- A policy pack's version is loaded once, by an admin (or the platform, for the shipped packs) in their own name,
-- with the hash of its content as the database computes it, and never changes: a changed file is a new version.
CREATE OR REPLACE FUNCTION public.lfr_guard_policy_packs() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM public.lfr_deny(pg_catalog.format('policy pack %s v%s was loaded and never changes; load a new '
                                                  'version', OLD.name, OLD.version));
    END IF;
    PERFORM public.lfr_require('load a policy pack', 'admin', 'system');
    PERFORM public.lfr_require_own_name('load a policy pack', NEW.loaded_by, system_may => true);
    IF NEW.content_sha256 <> pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(
                                 public.lfr_canonical_json(NEW.content), 'UTF8')), 'hex') THEN
        PERFORM public.lfr_deny(pg_catalog.format('policy pack %s v%s: content_sha256 is not the hash of its content',
                                                  NEW.name, NEW.version));
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_audit_policy_pack() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_audit_change('policy.load', 'policy_pack', NEW.name || ' v' || NEW.version,
        pg_catalog.jsonb_build_object('name', NEW.name, 'version', NEW.version, 'content_sha256', NEW.content_sha256),
        '{admin,system}');
    RETURN NULL;
END $$;

-- The use case a deployment names, from its pack's closed list (NULL when the list has no such case).
CREATE OR REPLACE FUNCTION public.lfr_pack_use_case(p_name text, p_version integer, p_use_case text) RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT u FROM public.policy_packs AS p, pg_catalog.jsonb_array_elements(p.content -> 'use_cases') AS u
    WHERE p.name = p_name AND p.version = p_version AND u ->> 'id' = p_use_case
$$;

-- The references to assessments the deployment's pack requires and the deployment lacks ({} for a deployment
-- planned before packs existed).
CREATE OR REPLACE FUNCTION public.lfr_missing_references(p_deployment uuid) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(pg_catalog.array_agg(a ORDER BY n), '{}')
    FROM public.deployments AS d
    JOIN public.policy_packs AS p ON p.name = d.policy_name AND p.version = d.policy_version,
         pg_catalog.jsonb_array_elements_text(p.content -> 'required_assessments') WITH ORDINALITY AS r(a, n)
    WHERE d.id = p_deployment AND pg_catalog.to_jsonb(d) ->> (a || '_ref') IS NULL
$$;

-- A new deployment runs under a loaded pack: its use case is in the pack's closed list, its categories are among
-- those the use case permits, its window is no longer than the pack allows, and a withheld notice is allowed.
CREATE OR REPLACE FUNCTION public.lfr_check_deployment_pack(d public.deployments) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    pack jsonb;
    use_case jsonb;
    longest double precision;
BEGIN
    IF d.policy_name IS NULL OR d.use_case IS NULL OR d.location_rationale IS NULL THEN
        PERFORM public.lfr_deny('a deployment names the policy pack it runs under, its use case and the rationale for '
                                'its location');
    END IF;
    SELECT p.content INTO pack FROM public.policy_packs AS p WHERE p.name = d.policy_name AND p.version = d.policy_version;
    IF pack IS NULL THEN
        PERFORM public.lfr_deny(pg_catalog.format('policy pack %s v%s is not loaded (loaded: %s); an admin loads it with '
            '`lfr policy load %s`', d.policy_name, d.policy_version,
            coalesce((SELECT pg_catalog.string_agg(p.name || ' v' || p.version, ', ' ORDER BY p.name, p.version)
                      FROM public.policy_packs AS p), 'none'), d.policy_name));
    END IF;
    use_case := public.lfr_pack_use_case(d.policy_name, d.policy_version, d.use_case);
    IF use_case IS NULL THEN
        PERFORM public.lfr_deny(pg_catalog.format('use case %s is not in policy pack %s v%s (its use cases: %s)',
            d.use_case, d.policy_name, d.policy_version,
            (SELECT pg_catalog.string_agg(u ->> 'id', ', ') FROM pg_catalog.jsonb_array_elements(pack -> 'use_cases') AS u)));
    END IF;
    IF NOT d.allowed_categories <@ ARRAY(SELECT pg_catalog.jsonb_array_elements_text(use_case -> 'categories')) THEN
        PERFORM public.lfr_deny(pg_catalog.format('use case %s (%s) of policy pack %s v%s permits the categories %s, '
            'not %s', d.use_case, use_case ->> 'reference', d.policy_name, d.policy_version,
            (SELECT pg_catalog.string_agg(c, ', ') FROM pg_catalog.jsonb_array_elements_text(use_case -> 'categories') AS c),
            pg_catalog.array_to_string(d.allowed_categories, ', ')));
    END IF;
    longest := (pack ->> 'max_window_hours')::double precision;
    IF d.window_end - d.window_start > pg_catalog.make_interval(secs => longest * 3600) THEN
        PERFORM public.lfr_deny(pg_catalog.format('a window of %s is longer than policy pack %s v%s allows (%s hours)',
                                                  d.window_end - d.window_start, d.policy_name, d.policy_version, longest));
    END IF;
    IF d.notice_withheld_reason IS NOT NULL
       AND NOT coalesce((pack -> 'notice' ->> 'may_withhold_for_critical_threat')::boolean, false) THEN
        PERFORM public.lfr_deny(pg_catalog.format('policy pack %s v%s does not allow the public notice to be withheld',
                                                  d.policy_name, d.policy_version));
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_guard_deployments() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM public.lfr_deny('a deployment is never deleted; cancel it');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('create a deployment', 'planner', 'admin', 'system');
        PERFORM public.lfr_require_own_name('create a deployment', NEW.created_by, system_may => true);
        IF NEW.status <> 'planned' OR NEW.cancel_reason IS NOT NULL THEN
            PERFORM public.lfr_deny('a new deployment starts as planned');
        END IF;
        PERFORM public.lfr_check_deployment_pack(NEW);
        PERFORM public.lfr_check_planned_threshold(NEW);  -- 35_thresholds.sql
        RETURN NEW;
    END IF;
    -- A threshold changes only by an authoriser's recorded decision (issue 27 item 4, 35_thresholds.sql).
    IF (NEW.threshold, NEW.threshold_decision_id) IS DISTINCT FROM (OLD.threshold, OLD.threshold_decision_id) THEN
        PERFORM public.lfr_check_threshold_change(NEW, OLD);
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.created_by, NEW.place, NEW.purpose, NEW.legal_basis, NEW.window_start, NEW.window_end,
        NEW.authorising_officer, NEW.allowed_categories, NEW.created_at, NEW.policy_name,
        NEW.policy_version, NEW.use_case, NEW.location_rationale, NEW.notice_withheld_reason)
       IS DISTINCT FROM (OLD.id, OLD.created_by, OLD.place, OLD.purpose, OLD.legal_basis, OLD.window_start,
                         OLD.window_end, OLD.authorising_officer, OLD.allowed_categories, OLD.created_at,
                         OLD.policy_name, OLD.policy_version, OLD.use_case, OLD.location_rationale,
                         OLD.notice_withheld_reason) THEN
        PERFORM public.lfr_deny('a deployment''s plan is fixed once created; cancel it and plan another');
    END IF;
    -- A missing reference to an assessment may be added while the deployment is planned and no list of it is
    -- sealed; a reference once given never changes.
    IF (NEW.dpia_ref, NEW.eia_ref, NEW.fria_ref, NEW.registration_ref)
       IS DISTINCT FROM (OLD.dpia_ref, OLD.eia_ref, OLD.fria_ref, OLD.registration_ref) THEN
        PERFORM public.lfr_require('add a deployment''s references', 'planner', 'admin', 'system');
        IF (OLD.dpia_ref IS NOT NULL AND NEW.dpia_ref IS DISTINCT FROM OLD.dpia_ref)
           OR (OLD.eia_ref IS NOT NULL AND NEW.eia_ref IS DISTINCT FROM OLD.eia_ref)
           OR (OLD.fria_ref IS NOT NULL AND NEW.fria_ref IS DISTINCT FROM OLD.fria_ref)
           OR (OLD.registration_ref IS NOT NULL AND NEW.registration_ref IS DISTINCT FROM OLD.registration_ref) THEN
            PERFORM public.lfr_deny('a reference to an assessment, once recorded, never changes');
        END IF;
        IF OLD.status <> 'planned' OR NEW.status <> 'planned' OR EXISTS (
               SELECT 1 FROM public.watchlist_versions AS v WHERE v.deployment_id = OLD.id AND v.state <> 'draft') THEN
            PERFORM public.lfr_deny(pg_catalog.format('deployment %s is %s or has a sealed list; its references are '
                                                      'fixed', OLD.id, OLD.status));
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM public.lfr_transition('deployment', OLD.status, NEW.status, OLD.id, 'deployment ' || OLD.id);
        IF (NEW.status = 'cancelled') IS DISTINCT FROM (NEW.cancel_reason IS NOT NULL AND NEW.cancel_reason <> '') THEN
            PERFORM public.lfr_deny('a deployment is cancelled with a reason, and only a cancellation has one');
        END IF;
    ELSIF NEW.cancel_reason IS DISTINCT FROM OLD.cancel_reason THEN
        PERFORM public.lfr_deny('a cancellation''s reason is given when the deployment is cancelled, and never changes');
    ELSE  -- the published report's pending count
        PERFORM public.lfr_require('change a deployment', 'admin', 'system');
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_guard_staff() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_require('assign people to a deployment', 'planner', 'admin', 'system');
    IF TG_OP = 'UPDATE' THEN
        PERFORM public.lfr_deny('an assignment is made or withdrawn, never changed');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require_own_name('assign people to a deployment', NEW.assigned_by, system_may => true);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

-- The audit rows of a deployment's changes of state and of its assignments, written by AFTER triggers (so a
-- row that ON CONFLICT skipped writes none) in the transaction of the change.
CREATE OR REPLACE FUNCTION public.lfr_audit_deployment_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_audit_change('deployment.' || NEW.status, 'deployment', NEW.id::text,
        pg_catalog.jsonb_build_object('from', OLD.status, 'to', NEW.status)
        || CASE WHEN NEW.status = 'cancelled' THEN pg_catalog.jsonb_build_object('reason', NEW.cancel_reason)
                ELSE '{}' END,
        public.lfr_transition_roles('deployment', OLD.status, NEW.status));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_audit_staff_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    staff public.deployment_staff := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM public.lfr_audit_change(CASE WHEN TG_OP = 'DELETE' THEN 'deployment.unassign' ELSE 'deployment.assign' END,
                                    'deployment', staff.deployment_id::text,
                                    pg_catalog.jsonb_build_object('person', staff.person, 'role', staff.role),
                                    '{planner,admin,system}');
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON policy_packs;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON policy_packs
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_policy_packs();
DROP TRIGGER IF EXISTS lfr_audit ON policy_packs;
CREATE TRIGGER lfr_audit AFTER INSERT ON policy_packs FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_policy_pack();
DROP TRIGGER IF EXISTS lfr_guard ON deployments;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployments
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_deployments();
DROP TRIGGER IF EXISTS lfr_guard ON api_keys;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('manage camera keys', 'admin', 'system');
DROP TRIGGER IF EXISTS lfr_guard ON deployment_staff;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployment_staff
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_staff();
DROP TRIGGER IF EXISTS lfr_audit ON deployments;
CREATE TRIGGER lfr_audit AFTER UPDATE ON deployments
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION public.lfr_audit_deployment_change();
DROP TRIGGER IF EXISTS lfr_audit ON deployment_staff;
CREATE TRIGGER lfr_audit AFTER INSERT OR DELETE ON deployment_staff
    FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_staff_change();

GRANT SELECT ON deployments, deployment_staff, policy_packs TO lfr_person;
GRANT INSERT ON policy_packs TO lfr_admin;
GRANT INSERT, UPDATE ON deployments TO lfr_planner, lfr_admin;
GRANT INSERT, DELETE ON deployment_staff TO lfr_planner, lfr_admin;
GRANT UPDATE ON deployments TO lfr_operator;
GRANT SELECT, INSERT, UPDATE ON api_keys TO lfr_admin;

-- Cameras registered for a deployment (issue 32 item 3, migration 0028): a planner or admin registers one in
-- their own name for a deployment still planned or live, with the range computed at the deployment's gate
-- size; a registration is never changed or deleted (register the camera again under another name), and each
-- is audited in the deployment's history.
CREATE OR REPLACE FUNCTION public.lfr_guard_deployment_cameras() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    status text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM public.lfr_deny('a registered camera is never changed or deleted; register it again under another name');
    END IF;
    PERFORM public.lfr_require('register a camera for a deployment', 'planner', 'admin', 'system');
    PERFORM public.lfr_require_own_name('register a camera', NEW.registered_by, system_may => true);
    SELECT d.status INTO status FROM public.deployments AS d WHERE d.id = NEW.deployment_id;
    IF status IS DISTINCT FROM 'planned' AND status IS DISTINCT FROM 'live' THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s is %s; cameras are registered for a planned or '
                                                  'live deployment', NEW.deployment_id, coalesce(status, 'unknown')));
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_audit_camera_registered() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_audit_change('deployment.camera', 'deployment', NEW.deployment_id::text,
        pg_catalog.jsonb_build_object('camera', NEW.name, 'width_px', NEW.width_px, 'height_px', NEW.height_px,
                                      'hfov_deg', NEW.hfov_deg, 'face_width_m', NEW.face_width_m,
                                      'face_px', NEW.face_px, 'max_distance_m', NEW.max_distance_m),
        '{planner,admin,system}');
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON deployment_cameras;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployment_cameras
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_deployment_cameras();
DROP TRIGGER IF EXISTS lfr_audit ON deployment_cameras;
CREATE TRIGGER lfr_audit AFTER INSERT ON deployment_cameras
    FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_camera_registered();

-- Every person and the platform read the cameras (as they read deployments); only a planner, admin or the
-- platform adds one, and in their own name.
ALTER TABLE deployment_cameras ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS deployment_cameras_read ON deployment_cameras;
CREATE POLICY deployment_cameras_read ON deployment_cameras FOR SELECT TO lfr_person, lfr_system USING (true);
DROP POLICY IF EXISTS deployment_cameras_register ON deployment_cameras;
CREATE POLICY deployment_cameras_register ON deployment_cameras FOR INSERT TO lfr_planner, lfr_admin, lfr_system
    WITH CHECK (registered_by = public.lfr_actor() OR public.lfr_holds('system'));

GRANT SELECT ON deployment_cameras TO lfr_person;
GRANT INSERT ON deployment_cameras TO lfr_planner, lfr_admin, lfr_system;

-- External prior authorisation (issue 27 item 3, Art 5(3); migration 0029): where a deployment stands with it.
--   not_required  its pack does not require it (or it predates packs)
--   granted       the authority authorised the use
--   urgent        started under urgency; the deadline for the decision has not passed
--   missing       required, and neither authorised nor started under urgency
--   refused       the authority refused: the use stops and its outputs are discarded
--   lapsed        started under urgency and the deadline passed without a decision: the same
CREATE OR REPLACE FUNCTION public.lfr_authorisation_state(p_deployment uuid) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    required boolean;
    decision text;
    deadline timestamptz;
BEGIN
    SELECT coalesce((p.content -> 'external_authorisation' ->> 'required')::boolean, false) INTO required
    FROM public.deployments AS d JOIN public.policy_packs AS p ON p.name = d.policy_name AND p.version = d.policy_version
    WHERE d.id = p_deployment;
    IF NOT coalesce(required, false) THEN
        RETURN 'not_required';
    END IF;
    SELECT a.kind INTO decision FROM public.deployment_authorisations AS a
    WHERE a.deployment_id = p_deployment AND a.kind IN ('granted', 'refused');
    IF decision IS NOT NULL THEN
        RETURN decision;
    END IF;
    SELECT a.deadline INTO deadline FROM public.deployment_authorisations AS a
    WHERE a.deployment_id = p_deployment AND a.kind = 'urgent_start';
    IF deadline IS NULL THEN
        RETURN 'missing';
    END IF;
    RETURN CASE WHEN pg_catalog.clock_timestamp() < deadline THEN 'urgent' ELSE 'lapsed' END;
END $$;

-- A use whose authorisation was refused or lapsed: it is stopped, and its data are discarded (55_use_authorisation).
CREATE OR REPLACE FUNCTION public.lfr_use_stopped(p_deployment uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT public.lfr_authorisation_state(p_deployment) IN ('refused', 'lapsed')
$$;
