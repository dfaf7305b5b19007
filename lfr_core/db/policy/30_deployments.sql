-- Deployments, their staff and their camera keys (lfr_core/deployments/).

CREATE OR REPLACE FUNCTION public.lfr_guard_deployments() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM public.lfr_deny('a deployment is never deleted; cancel it');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('create a deployment', 'planner', 'admin', 'system');
        IF NOT public.lfr_holds('system') AND NEW.created_by <> public.lfr_actor() THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s may not create a deployment in the name of %s',
                                                      public.lfr_actor(), NEW.created_by));
        END IF;
        IF NEW.status <> 'planned' OR NEW.cancel_reason IS NOT NULL THEN
            PERFORM public.lfr_deny('a new deployment starts as planned');
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.id, NEW.created_by, NEW.place, NEW.purpose, NEW.legal_basis, NEW.window_start, NEW.window_end,
        NEW.authorising_officer, NEW.allowed_categories, NEW.threshold, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.created_by, OLD.place, OLD.purpose, OLD.legal_basis, OLD.window_start,
                         OLD.window_end, OLD.authorising_officer, OLD.allowed_categories, OLD.threshold, OLD.created_at) THEN
        PERFORM public.lfr_deny('a deployment''s plan is fixed once created; cancel it and plan another');
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
    IF TG_OP = 'INSERT' AND NOT public.lfr_holds('system') AND NEW.assigned_by <> public.lfr_actor() THEN
        PERFORM public.lfr_deny('an assignment is made in the name of the person who makes it');
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

GRANT SELECT ON deployments, deployment_staff TO lfr_person;
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
    IF NOT public.lfr_holds('system') AND NEW.registered_by <> public.lfr_actor() THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s may not register a camera in the name of %s',
                                                  public.lfr_actor(), NEW.registered_by));
    END IF;
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
