-- Who may change what, checked where the data lives (issue 11). Applied by lfr_core/db/harden.py after
-- every migration run, as lfr_owner; idempotent.
--
-- A person is a PostgreSQL login role in the group roles of what they do (lfr_planner, lfr_authoriser,
-- lfr_operator, lfr_admin, lfr_auditor; lfr_core/people.py). The CLI connects with the person's own
-- credentials; the services (Ray Serve, Airflow) connect as the platform's login (group lfr_system) and run
-- each request as the authenticated person with SET LOCAL ROLE. So the same rules hold for the CLI, the
-- services and a direct SQL connection: the triggers below refuse what the acting person's roles do not
-- allow, the four-eyes rule included, and row-level security hides other deployments' alerts.

-- The acting person: the role set by SET ROLE, else the login. Inside a SECURITY DEFINER function
-- current_user is the function's owner, while the `role` setting still names the caller's role.
CREATE OR REPLACE FUNCTION public.lfr_actor() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT coalesce(nullif(current_setting('role'), 'none'), session_user)::text
$$;

-- Does the acting person hold one of these platform roles ('planner', ..., 'system')?
CREATE OR REPLACE FUNCTION public.lfr_holds(VARIADIC wanted text[]) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM unnest(wanted) AS w JOIN pg_roles AS g ON g.rolname = 'lfr_' || w
                   WHERE pg_has_role(public.lfr_actor(), g.oid, 'USAGE'))
$$;

-- A database superuser can switch triggers off anyway; every guard's trigger lets them through (WHEN below: a
-- restore, a repair) and the signed audit checkpoints show what they did (lfr_core/audit_checkpoints.py).
CREATE OR REPLACE FUNCTION public.lfr_superuser() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT rolsuper FROM pg_roles WHERE rolname = current_user
$$;

CREATE OR REPLACE FUNCTION public.lfr_refuse(what text, VARIADIC wanted text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = format('%s may not %s; that needs the role %s', public.lfr_actor(), what,
                         array_to_string(wanted, ' or '));
END $$;

CREATE OR REPLACE FUNCTION public.lfr_require(what text, VARIADIC wanted text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF NOT public.lfr_holds(VARIADIC wanted) THEN
        PERFORM public.lfr_refuse(what, VARIADIC wanted);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_deny(message text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = message;
END $$;

-- Is the acting person assigned to this deployment in this role?
CREATE OR REPLACE FUNCTION public.lfr_assigned(p_deployment uuid, p_role text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT EXISTS (SELECT 1 FROM public.deployment_staff
                   WHERE deployment_id = p_deployment AND person = public.lfr_actor() AND role = p_role)
$$;

CREATE OR REPLACE FUNCTION public.lfr_guard_deployments() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM public.lfr_deny('a deployment is never deleted; cancel it');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('create a deployment', 'planner', 'admin', 'system');
        IF NOT public.lfr_holds('system') AND NEW.created_by <> public.lfr_actor() THEN
            PERFORM public.lfr_deny(format('%s may not create a deployment in the name of %s', public.lfr_actor(),
                                           NEW.created_by));
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.created_by, NEW.place, NEW.purpose, NEW.legal_basis, NEW.window_start, NEW.window_end,
        NEW.authorising_officer, NEW.allowed_categories, NEW.threshold, NEW.created_at)
       IS DISTINCT FROM (OLD.created_by, OLD.place, OLD.purpose, OLD.legal_basis, OLD.window_start, OLD.window_end,
                         OLD.authorising_officer, OLD.allowed_categories, OLD.threshold, OLD.created_at) THEN
        PERFORM public.lfr_deny('a deployment''s plan is fixed once created; cancel it and plan another');
    END IF;
    IF NEW.status = 'cancelled' OR NEW.cancel_reason IS DISTINCT FROM OLD.cancel_reason THEN
        PERFORM public.lfr_require('cancel a deployment', 'planner', 'admin', 'system');
    ELSIF NEW.status IS DISTINCT FROM OLD.status THEN  -- live with its list, closed when the list ends
        PERFORM public.lfr_require('open or close a deployment', 'operator', 'admin', 'system');
    ELSE  -- the published report's pending count
        PERFORM public.lfr_require('change a deployment', 'admin', 'system');
    END IF;
    RETURN NEW;
END $$;

-- The four-eyes rule lives here: a draft is approved only by an authoriser, in their own name, who did not
-- build it; nobody else changes who built or approved a version.
CREATE OR REPLACE FUNCTION public.lfr_guard_watchlist_versions() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    who text := public.lfr_actor();
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM public.lfr_deny('a watchlist version is never deleted; it is purged with a receipt');
    END IF;
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('build a watchlist', 'planner', 'admin', 'system');
        IF NEW.state <> 'draft' OR NEW.approved_by IS NOT NULL THEN
            PERFORM public.lfr_deny('a new watchlist version starts as an unapproved draft');
        END IF;
        IF NOT public.lfr_holds('system') AND NEW.built_by <> who THEN
            PERFORM public.lfr_deny(format('%s may not build a watchlist in the name of %s', who, NEW.built_by));
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.built_by IS DISTINCT FROM OLD.built_by OR NEW.deployment_id IS DISTINCT FROM OLD.deployment_id
       OR NEW.version IS DISTINCT FROM OLD.version THEN
        PERFORM public.lfr_deny('who built a version, and for which deployment, never changes');
    END IF;
    IF OLD.state = 'draft' AND NEW.state = 'approved' THEN
        IF NOT public.lfr_holds('authoriser') THEN
            PERFORM public.lfr_refuse('approve a watchlist', 'authoriser');
        END IF;
        IF NEW.approved_by IS DISTINCT FROM who THEN
            PERFORM public.lfr_deny(format('%s may not approve in the name of %s', who, NEW.approved_by));
        END IF;
        IF who = OLD.built_by THEN
            PERFORM public.lfr_deny(format('%s built this version; approval needs a different authoriser', who));
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.approved_by, NEW.approved_at, NEW.criteria_sha256)
       IS DISTINCT FROM (OLD.approved_by, OLD.approved_at, OLD.criteria_sha256) THEN
        PERFORM public.lfr_deny('an approval is recorded only by approving a draft');
    END IF;
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        IF NEW.state = 'active' THEN
            PERFORM public.lfr_require('activate a watchlist', 'operator', 'admin', 'system');
        ELSIF NEW.state = 'expired' THEN
            PERFORM public.lfr_require('expire a watchlist', 'operator', 'admin', 'system');
        ELSIF NEW.state IN ('purging', 'purged') THEN
            PERFORM public.lfr_require('purge a watchlist', 'admin', 'system');
        ELSE
            PERFORM public.lfr_deny(format('no one moves a watchlist from %s to %s', OLD.state, NEW.state));
        END IF;
    ELSIF OLD.state = 'draft' THEN  -- the build completes its own draft (snapshot)
        PERFORM public.lfr_require('change a draft', 'planner', 'admin', 'system');
    ELSE  -- purge progress and receipts
        PERFORM public.lfr_require('change a sealed watchlist', 'admin', 'system');
    END IF;
    RETURN NEW;
END $$;

-- Entries and templates: written by the build, removed or marked only by a purge.
CREATE OR REPLACE FUNCTION public.lfr_guard_watchlist_content() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('build a watchlist', 'planner', 'admin', 'system');
        RETURN NEW;
    END IF;
    PERFORM public.lfr_require('purge a watchlist', 'admin', 'system');
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

-- How long an officer may take back their own decision on an alert (the console's undo).
CREATE OR REPLACE FUNCTION public.lfr_undo_window() RETURNS interval
LANGUAGE sql IMMUTABLE AS $$ SELECT interval '30 seconds' $$;

-- Alerts: raised by the live service only; decided by an operator of the deployment (or an admin) in their
-- own name, once; a legal hold by an admin; the facts of an alert never change.
CREATE OR REPLACE FUNCTION public.lfr_guard_alerts() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    who text := public.lfr_actor();
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM public.lfr_require('raise an alert', 'system');
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM public.lfr_require('delete an alert', 'system');
        RETURN OLD;
    END IF;
    IF (NEW.id, NEW.deployment_id, NEW.version_id, NEW.subject_ref, NEW.category, NEW.score, NEW.camera_id,
        NEW.track_id, NEW.captured_at, NEW.raised_at)
       IS DISTINCT FROM (OLD.id, OLD.deployment_id, OLD.version_id, OLD.subject_ref, OLD.category, OLD.score,
                         OLD.camera_id, OLD.track_id, OLD.captured_at, OLD.raised_at) THEN
        PERFORM public.lfr_deny('the facts of an alert never change');
    END IF;
    IF (NEW.status, NEW.adjudicated_by, NEW.adjudicated_at, NEW.outcome)
       IS DISTINCT FROM (OLD.status, OLD.adjudicated_by, OLD.adjudicated_at, OLD.outcome) THEN
        PERFORM public.lfr_require('adjudicate an alert', 'operator', 'admin');
        IF NEW.status = 'pending' THEN
            -- An undo: only the decider's own, within the undo window, before an engagement is recorded.
            IF OLD.status = 'pending' OR OLD.adjudicated_by IS DISTINCT FROM who
               OR OLD.adjudicated_at < now() - public.lfr_undo_window() OR OLD.engagement IS NOT NULL
               OR num_nonnulls(NEW.adjudicated_by, NEW.adjudicated_at, NEW.outcome) > 0 THEN
                PERFORM public.lfr_deny(format('the decision on alert %s can be undone only by %s, within %s of it and '
                                               'before an engagement is recorded', OLD.id,
                                               coalesce(OLD.adjudicated_by, 'its decider'), public.lfr_undo_window()));
            END IF;
        ELSE
            IF OLD.status <> 'pending' THEN
                PERFORM public.lfr_deny(format('alert %s was already adjudicated (%s by %s)', OLD.id, OLD.status, OLD.adjudicated_by));
            END IF;
            IF NEW.adjudicated_by IS DISTINCT FROM who THEN
                PERFORM public.lfr_deny(format('%s may not decide an alert in the name of %s', who, NEW.adjudicated_by));
            END IF;
        END IF;
    END IF;
    IF (NEW.engagement, NEW.engagement_by, NEW.engagement_at, NEW.engagement_note)
       IS DISTINCT FROM (OLD.engagement, OLD.engagement_by, OLD.engagement_at, OLD.engagement_note) THEN
        PERFORM public.lfr_require('record what came of an engagement', 'operator', 'admin');
        IF NEW.status <> 'confirmed' OR OLD.engagement IS NOT NULL OR NEW.engagement IS NULL THEN
            PERFORM public.lfr_deny(format('an engagement outcome is recorded once, for a confirmed alert (alert %s is %s%s)',
                                           OLD.id, OLD.status, CASE WHEN OLD.engagement IS NULL THEN ''
                                                                    ELSE ', outcome ' || OLD.engagement END));
        END IF;
        IF NEW.engagement_by IS DISTINCT FROM who THEN
            PERFORM public.lfr_deny(format('%s may not record an outcome in the name of %s', who, NEW.engagement_by));
        END IF;
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

CREATE OR REPLACE FUNCTION public.lfr_guard_platform_table() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    -- TG_ARGV: what the change is, then the roles that may make it.
    PERFORM public.lfr_require(TG_ARGV[0], VARIADIC TG_ARGV[1:]);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_guard_staff() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM public.lfr_require('assign people to a deployment', 'planner', 'admin', 'system');
    IF TG_OP = 'INSERT' AND NOT public.lfr_holds('system') AND NEW.assigned_by <> public.lfr_actor() THEN
        PERFORM public.lfr_deny('an assignment is made in the name of the person who makes it');
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

DROP TRIGGER IF EXISTS lfr_guard ON deployments;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployments
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_deployments();
DROP TRIGGER IF EXISTS lfr_guard ON watchlist_versions;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON watchlist_versions
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_watchlist_versions();
DROP TRIGGER IF EXISTS lfr_guard ON watchlist_entries;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON watchlist_entries
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_watchlist_content();
DROP TRIGGER IF EXISTS lfr_guard ON watchlist_embeddings;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON watchlist_embeddings
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_watchlist_content();
DROP TRIGGER IF EXISTS lfr_guard ON alerts;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON alerts
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_alerts();
DROP TRIGGER IF EXISTS lfr_guard ON api_keys;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON api_keys
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('manage camera keys', 'admin', 'system');
DROP TRIGGER IF EXISTS lfr_guard ON model_calibrations;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON model_calibrations
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('record a model calibration', 'admin', 'system');
DROP TRIGGER IF EXISTS lfr_guard ON staging_claims;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON staging_claims
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('claim a staging folder', 'planner', 'admin', 'system');
DROP TRIGGER IF EXISTS lfr_guard ON deployment_counters;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployment_counters
    FOR EACH ROW WHEN (NOT public.lfr_superuser())
    EXECUTE FUNCTION public.lfr_guard_platform_table('count frames', 'system');
DROP TRIGGER IF EXISTS lfr_guard ON deployment_staff;
CREATE TRIGGER lfr_guard BEFORE INSERT OR UPDATE OR DELETE ON deployment_staff
    FOR EACH ROW WHEN (NOT public.lfr_superuser()) EXECUTE FUNCTION public.lfr_guard_staff();

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

-- Table rights of the groups: a coarse first layer under the triggers above.
GRANT USAGE ON SCHEMA public TO lfr_person;
GRANT SELECT ON deployments, watchlist_versions, watchlist_entries, alerts, deployment_counters, model_calibrations,
    staging_claims, deployment_staff, schema_migrations TO lfr_person;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO lfr_person;
GRANT INSERT, UPDATE ON deployments, watchlist_versions, watchlist_entries TO lfr_planner, lfr_admin;
GRANT INSERT ON watchlist_embeddings, staging_claims TO lfr_planner, lfr_admin;
GRANT INSERT, DELETE ON deployment_staff TO lfr_planner, lfr_admin;
GRANT UPDATE ON watchlist_versions TO lfr_authoriser, lfr_operator;
GRANT UPDATE ON deployments TO lfr_operator;
GRANT UPDATE ON alerts TO lfr_operator, lfr_admin;
GRANT SELECT, DELETE ON watchlist_embeddings TO lfr_admin;
GRANT SELECT, INSERT, UPDATE ON api_keys TO lfr_admin;
GRANT INSERT ON model_calibrations TO lfr_admin;

-- An audit row for a change to people, written as lfr_core/audit.py writes rows (ISO time in UTC, canonical
-- JSON details) so that `lfr audit verify` recomputes its hash.
CREATE OR REPLACE FUNCTION public.lfr_audit_person_change(p_action text, p_name text, p_details text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    now_utc timestamp := clock_timestamp() AT TIME ZONE 'UTC';
BEGIN
    PERFORM audit.append(to_char(now_utc, 'YYYY-MM-DD"T"HH24:MI:SS')
                         || CASE WHEN extract(microseconds FROM now_utc)::bigint % 1000000 = 0 THEN ''
                                 ELSE to_char(now_utc, '.US') END || '+00:00',
                         public.lfr_actor(),
                         CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = public.lfr_actor()) THEN 'system'
                              ELSE 'admin' END,
                         p_action, 'person', p_name, p_details::jsonb,
                         encode(sha256(convert_to(p_details, 'UTF8')), 'hex'));
END $$;
REVOKE ALL ON FUNCTION public.lfr_audit_person_change(text, text, text) FROM PUBLIC;

-- People are added by an admin (or the database administrator, to make the first admin): a login role in
-- the groups of its roles, which the platform's service logins may act as (SET ROLE) but not inherit.
-- The password arrives as a SCRAM verifier, so no statement log ever holds it.
CREATE OR REPLACE FUNCTION public.lfr_add_person(p_name text, p_roles text[], p_scram_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    r text;
    service name;
BEGIN
    PERFORM public.lfr_require('add a person', 'admin');
    IF p_name !~ '^[a-z][a-z0-9._-]{1,62}$' OR p_name ~ '^(lfr|pg)' OR p_name IN ('postgres', 'public', 'none', 'admin') THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = format(
            'a person''s name is 2-63 lowercase letters, digits, dots, dashes or underscores, starting with a '
            'letter, not starting with lfr or pg, and not admin (Airflow''s own): %s', p_name);
    END IF;
    IF cardinality(p_roles) IS NULL OR cardinality(p_roles) = 0 OR NOT p_roles <@ ARRAY['planner', 'authoriser',
                                                                                   'operator', 'admin', 'auditor'] THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = 'give one or more roles: planner, authoriser, operator, admin, auditor';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_object', MESSAGE = format('%s already exists', p_name);
    END IF;
    IF p_scram_verifier !~ '^SCRAM-SHA-256\$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'the password must come as a SCRAM verifier';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE lfr_person', p_name, p_scram_verifier);
    FOREACH r IN ARRAY p_roles LOOP
        EXECUTE format('GRANT %I TO %I', 'lfr_' || r, p_name);
    END LOOP;
    FOR service IN SELECT m.rolname FROM pg_auth_members AS a JOIN pg_roles AS m ON m.oid = a.member
                   WHERE a.roleid = 'lfr_system'::regrole AND m.rolcanlogin LOOP
        EXECUTE format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', p_name, service);
    END LOOP;
    PERFORM public.lfr_audit_person_change('person.add',  p_name,
        '{"roles":[' || (SELECT string_agg(to_json(x)::text, ',') FROM unnest(p_roles) AS x) || ']}');
END $$;
REVOKE ALL ON FUNCTION public.lfr_add_person(text, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lfr_add_person(text, text[], text) TO lfr_person;  -- it checks for admin

-- A person who leaves or is suspended can no longer sign in; their role stays, so the audit log's names do.
CREATE OR REPLACE FUNCTION public.lfr_disable_person(p_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    PERFORM public.lfr_require('disable a person', 'admin');
    IF NOT EXISTS (SELECT 1 FROM pg_auth_members AS a JOIN pg_roles AS m ON m.oid = a.member
                   WHERE a.roleid = 'lfr_person'::regrole AND m.rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = format('no person named %s', p_name);
    END IF;
    EXECUTE format('ALTER ROLE %I NOLOGIN', p_name);
    PERFORM public.lfr_audit_person_change('person.disable', p_name, '{}');
END $$;
REVOKE ALL ON FUNCTION public.lfr_disable_person(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lfr_disable_person(text) TO lfr_person;  -- it checks for admin
