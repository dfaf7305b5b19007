-- Who may change what, checked where the data lives (issues 11 and 25). Applied by lfr_core/db/harden.py after
-- every migration run, as lfr_owner; idempotent.
--
-- A person is a PostgreSQL login role in the group roles of what they do (lfr_planner, lfr_authoriser,
-- lfr_operator, lfr_admin, lfr_auditor; lfr_core/identity/people.py). The CLI connects with the person's own
-- credentials; the services (Ray Serve, Airflow) connect as the platform's login (group lfr_system) and run
-- each request as the authenticated person with SET LOCAL ROLE. So the same rules hold for the CLI, the
-- services and a direct SQL connection: the triggers below refuse what the acting person's roles do not
-- allow, the four-eyes rule included, row-level security hides other deployments' alerts, and every change
-- of state writes its own audit row.
--
-- Every function pins `search_path = pg_catalog, pg_temp` and names every other object with its schema.
-- pg_temp is searched first for relations unless the path names it, so a person's TEMP table called
-- pg_roles would otherwise answer for the catalog (tests/security/test_catalog_shadowing.py).

-- The acting person: the role set by SET ROLE, else the login. Inside a SECURITY DEFINER function
-- current_user is the function's owner, while the `role` setting still names the caller's role.
CREATE OR REPLACE FUNCTION public.lfr_actor() RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user)::text
$$;

-- Does the acting person hold one of these platform roles ('planner', ..., 'system')?
CREATE OR REPLACE FUNCTION public.lfr_holds(VARIADIC wanted text[]) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.unnest(wanted) AS w
                   JOIN pg_catalog.pg_roles AS g ON g.rolname = 'lfr_' || w
                   WHERE pg_catalog.pg_has_role(public.lfr_actor(), g.oid, 'USAGE'))
$$;

-- A database superuser can switch triggers off anyway; every guard's trigger lets them through (WHEN below: a
-- restore, a repair) and the signed audit checkpoints show what they did (lfr_core/audit/checkpoints.py).
-- Read from the catalog by its schema-qualified name: a TEMP table cannot stand in for it.
CREATE OR REPLACE FUNCTION public.lfr_superuser() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user), false)
$$;

CREATE OR REPLACE FUNCTION public.lfr_refuse(what text, VARIADIC wanted text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = pg_catalog.format('%s may not %s; that needs the role %s', public.lfr_actor(), what,
                                    pg_catalog.array_to_string(wanted, ' or '));
END $$;

CREATE OR REPLACE FUNCTION public.lfr_require(what text, VARIADIC wanted text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT public.lfr_holds(VARIADIC wanted) THEN
        PERFORM public.lfr_refuse(what, VARIADIC wanted);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_deny(message text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = message;
END $$;

-- Is the acting person assigned to this deployment in this role?
CREATE OR REPLACE FUNCTION public.lfr_assigned(p_deployment uuid, p_role text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM public.deployment_staff AS s
                   WHERE s.deployment_id = p_deployment AND s.person = public.lfr_actor() AND s.role = p_role)
$$;

-- JSON text as lfr_core/audit/log.py canonical_json writes it (keys sorted, no spaces, non-ASCII kept), so that
-- `lfr audit verify` recomputes the hash of a row a trigger wrote.
CREATE OR REPLACE FUNCTION public.lfr_canonical_json(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    CASE pg_catalog.jsonb_typeof(j)
    WHEN 'object' THEN
        RETURN '{' || coalesce((SELECT pg_catalog.string_agg(pg_catalog.to_jsonb(e.key)::text || ':'
                                                                        || public.lfr_canonical_json(e.value), ','
                                                                        ORDER BY e.key COLLATE "C")
                                           FROM pg_catalog.jsonb_each(j) AS e), '') || '}';
    WHEN 'array' THEN
        RETURN '[' || coalesce((SELECT pg_catalog.string_agg(public.lfr_canonical_json(e.value), ','
                                                                        ORDER BY e.n)
                                           FROM pg_catalog.jsonb_array_elements(j) WITH ORDINALITY AS e(value, n)),
                                          '') || ']';
    ELSE
        RETURN j::text;
    END CASE;
END $$;

-- One audit row, written as lfr_core/audit/log.py writes rows (ISO time in UTC, canonical JSON details).
CREATE OR REPLACE FUNCTION public.lfr_audit_row(p_action text, p_object_type text, p_object_id text, p_actor text,
                                                p_role text, p_details jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    now_utc timestamp := pg_catalog.clock_timestamp() AT TIME ZONE 'UTC';
    details text := public.lfr_canonical_json(p_details);
BEGIN
    PERFORM audit.append(pg_catalog.to_char(now_utc, 'YYYY-MM-DD"T"HH24:MI:SS')
                         || CASE WHEN pg_catalog.date_part('microseconds', now_utc)::bigint % 1000000 = 0 THEN ''
                                 ELSE pg_catalog.to_char(now_utc, '.US') END || '+00:00',
                         p_actor, p_role, p_action, p_object_type, p_object_id, p_details,
                         pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(details, 'UTF8')), 'hex'));
END $$;

-- The audit row of a guarded change, written by the change's own trigger so that no change of state goes
-- unrecorded, whoever makes it and however. The application says why beforehand (lfr_core/audit/log.py
-- describe_change: the role it acts in, and details such as a reason) in the transaction-local setting
-- lfr.change, which this consumes; the facts of the change (p_facts) override anything said there. The row
-- is written in the acting person's own name and in one of `p_roles` that they hold.
CREATE OR REPLACE FUNCTION public.lfr_audit_change(p_action text, p_object_type text, p_object_id text,
                                                   p_facts jsonb, p_roles text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    said jsonb := coalesce(nullif(pg_catalog.current_setting('lfr.change', true), ''), '{}')::jsonb;
    role text := said->>'role';
    actor text := public.lfr_actor();
BEGIN
    PERFORM pg_catalog.set_config('lfr.change', '', true);
    IF public.lfr_superuser() THEN  -- a repair by the database's administrator, who holds every role
        role := 'system';
    ELSIF role IS NULL OR NOT role = ANY (p_roles) OR NOT public.lfr_holds(role) THEN
        SELECT r INTO role FROM pg_catalog.unnest(p_roles) WITH ORDINALITY AS t(r, n)
        WHERE public.lfr_holds(r) ORDER BY n LIMIT 1;
    END IF;
    IF role = 'system' THEN  -- the platform's own login names the service that acted
        actor := coalesce(said->>'actor', actor);
    END IF;
    PERFORM public.lfr_audit_row(p_action, p_object_type, p_object_id, actor, role,
                                 coalesce(said->'details', '{}') || p_facts);
END $$;

-- A change of state is allowed only as a row of public.state_transitions, by a person holding one of its
-- roles (and, where that role acts per deployment, assigned to this one), when the deployment's conditions
-- hold. Returns the rule, whose other conditions (four_eyes, approved) the table's own guard checks.
CREATE OR REPLACE FUNCTION public.lfr_transition(p_object text, p_from text, p_to text, p_deployment uuid,
                                                 p_what text) RETURNS public.state_transitions
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rule public.state_transitions;
    dep public.deployments;
    moment timestamptz := pg_catalog.clock_timestamp();
BEGIN
    SELECT * INTO rule FROM public.state_transitions AS t
    WHERE t.object_type = p_object AND t.from_state = p_from AND t.to_state = p_to;
    IF NOT FOUND THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s is %s; it cannot become %s (allowed: %s)', p_what, p_from, p_to,
            coalesce((SELECT pg_catalog.string_agg(t.to_state, ', ' ORDER BY t.to_state)
                                 FROM public.state_transitions AS t
                                 WHERE t.object_type = p_object AND t.from_state = p_from), 'nothing')));
    END IF;
    IF NOT public.lfr_holds(VARIADIC rule.roles) THEN
        PERFORM public.lfr_refuse(pg_catalog.format('move %s from %s to %s', p_what, p_from, p_to),
                                  VARIADIC rule.roles);
    END IF;
    IF rule.assigned IS NOT NULL
       AND NOT public.lfr_holds(VARIADIC pg_catalog.array_remove(rule.roles, rule.assigned))
       AND NOT public.lfr_assigned(p_deployment, rule.assigned) THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s is not assigned to deployment %s as %s, so may not move %s '
                                                  'from %s to %s', public.lfr_actor(), p_deployment, rule.assigned,
                                                  p_what, p_from, p_to));
    END IF;
    SELECT * INTO dep FROM public.deployments AS d WHERE d.id = p_deployment;
    IF 'in_window' = ANY (rule.requires) AND NOT (dep.window_start <= moment AND moment < dep.window_end) THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment window is %s to %s; %s cannot become %s at %s, outside it',
                                                  dep.window_start, dep.window_end, p_what, p_to, moment));
    END IF;
    IF 'before_window_end' = ANY (rule.requires) AND moment >= dep.window_end THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment window ended at %s; %s cannot become %s after it',
                                                  dep.window_end, p_what, p_to));
    END IF;
    IF 'window_ended' = ANY (rule.requires) AND moment < dep.window_end THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment window ends at %s; %s cannot become %s before then',
                                                  dep.window_end, p_what, p_to));
    END IF;
    IF 'deployment_open' = ANY (rule.requires) AND dep.status IN ('cancelled', 'closed', 'lapsed') THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s is %s; %s cannot become %s', dep.id, dep.status,
                                                  p_what, p_to));
    END IF;
    IF 'list_active' = ANY (rule.requires) AND NOT EXISTS (
           SELECT 1 FROM public.watchlist_versions AS v WHERE v.deployment_id = p_deployment AND v.state = 'active') THEN
        PERFORM public.lfr_deny(pg_catalog.format('deployment %s has no active watchlist; it cannot become %s',
                                                  p_deployment, p_to));
    END IF;
    RETURN rule;
END $$;

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
        IF NOT public.lfr_holds('system') AND NEW.built_by <> who THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s may not build a watchlist in the name of %s', who, NEW.built_by));
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.built_by IS DISTINCT FROM OLD.built_by
       OR NEW.deployment_id IS DISTINCT FROM OLD.deployment_id OR NEW.version IS DISTINCT FROM OLD.version THEN
        PERFORM public.lfr_deny('who built a version, and for which deployment, never changes');
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
    ELSIF (NEW.approved_by, NEW.approved_at, NEW.criteria_sha256)
          IS DISTINCT FROM (OLD.approved_by, OLD.approved_at, OLD.criteria_sha256) THEN
        PERFORM public.lfr_deny('an approval is recorded only by approving a draft');
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

-- Entries and templates: written by the build, removed or marked only by a purge.
CREATE OR REPLACE FUNCTION public.lfr_guard_watchlist_content() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$ SELECT interval '30 seconds' $$;

-- Alerts: raised by the live service only; decided by an operator of the deployment (or an admin) in their
-- own name, once; a legal hold by an admin; the facts of an alert never change.
CREATE OR REPLACE FUNCTION public.lfr_guard_alerts() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
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
               OR OLD.adjudicated_at < pg_catalog.now() - public.lfr_undo_window() OR OLD.engagement IS NOT NULL
               OR num_nonnulls(NEW.adjudicated_by, NEW.adjudicated_at, NEW.outcome) > 0 THEN
                PERFORM public.lfr_deny(pg_catalog.format(
                    'the decision on alert %s can be undone only by %s, within %s of it and before an engagement is '
                    'recorded', OLD.id, coalesce(OLD.adjudicated_by, 'its decider'), public.lfr_undo_window()));
            END IF;
        ELSE
            IF OLD.status <> 'pending' THEN
                PERFORM public.lfr_deny(pg_catalog.format('alert %s was already adjudicated (%s by %s)', OLD.id,
                                                          OLD.status, OLD.adjudicated_by));
            END IF;
            IF NEW.adjudicated_by IS DISTINCT FROM who THEN
                PERFORM public.lfr_deny(pg_catalog.format('%s may not decide an alert in the name of %s', who,
                                                          NEW.adjudicated_by));
            END IF;
        END IF;
    END IF;
    IF (NEW.engagement, NEW.engagement_by, NEW.engagement_at, NEW.engagement_note)
       IS DISTINCT FROM (OLD.engagement, OLD.engagement_by, OLD.engagement_at, OLD.engagement_note) THEN
        PERFORM public.lfr_require('record what came of an engagement', 'operator', 'admin');
        IF NEW.status <> 'confirmed' OR OLD.engagement IS NOT NULL OR NEW.engagement IS NULL THEN
            PERFORM public.lfr_deny(pg_catalog.format(
                'an engagement outcome is recorded once, for a confirmed alert (alert %s is %s%s)', OLD.id, OLD.status,
                CASE WHEN OLD.engagement IS NULL THEN '' ELSE ', outcome ' || OLD.engagement END));
        END IF;
        IF NEW.engagement_by IS DISTINCT FROM who THEN
            PERFORM public.lfr_deny(pg_catalog.format('%s may not record an outcome in the name of %s', who,
                                                      NEW.engagement_by));
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
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- TG_ARGV: what the change is, then the roles that may make it.
    PERFORM public.lfr_require(TG_ARGV[0], VARIADIC TG_ARGV[1:]);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
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

-- The audit rows of changes of state, written by AFTER triggers (so a row that ON CONFLICT skipped writes
-- none) in the transaction of the change.
CREATE OR REPLACE FUNCTION public.lfr_audit_version_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rule public.state_transitions;
BEGIN
    SELECT * INTO rule FROM public.state_transitions AS t  -- none only for a superuser's repair
    WHERE t.object_type = 'watchlist_version' AND t.from_state = OLD.state AND t.to_state = NEW.state;
    PERFORM public.lfr_audit_change('watchlist.' || NEW.state, 'watchlist_version', NEW.id::text,
        pg_catalog.jsonb_build_object('deployment_id', NEW.deployment_id, 'version', NEW.version, 'from', OLD.state)
        || CASE WHEN NEW.state = 'approved' THEN pg_catalog.jsonb_build_object('criteria_sha256', NEW.criteria_sha256)
                ELSE '{}' END, coalesce(rule.roles, '{system}'));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.lfr_audit_deployment_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rule public.state_transitions;
BEGIN
    SELECT * INTO rule FROM public.state_transitions AS t  -- none only for a superuser's repair
    WHERE t.object_type = 'deployment' AND t.from_state = OLD.status AND t.to_state = NEW.status;
    PERFORM public.lfr_audit_change('deployment.' || NEW.status, 'deployment', NEW.id::text,
        pg_catalog.jsonb_build_object('from', OLD.status, 'to', NEW.status)
        || CASE WHEN NEW.status = 'cancelled' THEN pg_catalog.jsonb_build_object('reason', NEW.cancel_reason)
                ELSE '{}' END, coalesce(rule.roles, '{system}'));
    RETURN NULL;
END $$;

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
    IF NEW.engagement IS DISTINCT FROM OLD.engagement THEN
        PERFORM public.lfr_audit_change('alert.engagement.' || NEW.engagement, 'alert', NEW.id::text, facts, deciders);
    END IF;
    IF NEW.legal_hold IS DISTINCT FROM OLD.legal_hold THEN
        PERFORM public.lfr_audit_change(CASE WHEN NEW.legal_hold THEN 'alert.hold' ELSE 'alert.release' END, 'alert',
                                        NEW.id::text, facts, '{admin}');
    END IF;
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

-- Every change of state writes its own audit row (the functions above), whoever makes it, a database
-- superuser's repair included.
DROP TRIGGER IF EXISTS lfr_audit ON deployments;
CREATE TRIGGER lfr_audit AFTER UPDATE ON deployments
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION public.lfr_audit_deployment_change();
DROP TRIGGER IF EXISTS lfr_audit ON watchlist_versions;
CREATE TRIGGER lfr_audit AFTER UPDATE ON watchlist_versions
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION public.lfr_audit_version_change();
DROP TRIGGER IF EXISTS lfr_audit ON alerts;
CREATE TRIGGER lfr_audit AFTER UPDATE ON alerts
    FOR EACH ROW WHEN ((OLD.status, OLD.engagement, OLD.legal_hold) IS DISTINCT FROM (NEW.status, NEW.engagement, NEW.legal_hold))
    EXECUTE FUNCTION public.lfr_audit_alert_change();
DROP TRIGGER IF EXISTS lfr_audit ON deployment_staff;
CREATE TRIGGER lfr_audit AFTER INSERT OR DELETE ON deployment_staff
    FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_staff_change();

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
    staging_claims, deployment_staff, schema_migrations, state_transitions TO lfr_person;
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

-- Nobody but the owners creates anything here: no TEMP table to shadow a name with, no schema, no table.
DO $$
BEGIN
    EXECUTE pg_catalog.format('REVOKE TEMPORARY, CREATE ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- An audit row for a change to people: by an admin, or by the database administrator making the first one.
CREATE OR REPLACE FUNCTION public.lfr_audit_person_change(p_action text, p_name text, p_details jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_audit_row(p_action, 'person', p_name, public.lfr_actor(),
                                 CASE WHEN (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r
                                            WHERE r.rolname = public.lfr_actor()) THEN 'system' ELSE 'admin' END,
                                 p_details);
END $$;
DROP FUNCTION IF EXISTS public.lfr_audit_person_change(text, text, text);
REVOKE ALL ON FUNCTION public.lfr_audit_person_change(text, text, jsonb) FROM PUBLIC;

-- People are added by an admin (or the database administrator, to make the first admin): a login role in
-- the groups of its roles, which the platform's service logins may act as (SET ROLE) but not inherit.
-- The password arrives as a SCRAM verifier, so no statement log ever holds it.
CREATE OR REPLACE FUNCTION public.lfr_add_person(p_name text, p_roles text[], p_scram_verifier text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles AS r WHERE r.rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'duplicate_object', MESSAGE = format('%s already exists', p_name);
    END IF;
    IF p_scram_verifier !~ '^SCRAM-SHA-256\$' THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value', MESSAGE = 'the password must come as a SCRAM verifier';
    END IF;
    EXECUTE pg_catalog.format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE lfr_person', p_name, p_scram_verifier);
    FOREACH r IN ARRAY p_roles LOOP
        EXECUTE pg_catalog.format('GRANT %I TO %I', 'lfr_' || r, p_name);
    END LOOP;
    FOR service IN SELECT m.rolname FROM pg_catalog.pg_auth_members AS a JOIN pg_catalog.pg_roles AS m ON m.oid = a.member
                   WHERE a.roleid = 'lfr_system'::pg_catalog.regrole AND m.rolcanlogin LOOP
        EXECUTE pg_catalog.format('GRANT %I TO %I WITH INHERIT FALSE, SET TRUE', p_name, service);
    END LOOP;
    PERFORM public.lfr_audit_person_change('person.add', p_name, pg_catalog.jsonb_build_object('roles', p_roles));
END $$;
REVOKE ALL ON FUNCTION public.lfr_add_person(text, text[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lfr_add_person(text, text[], text) TO lfr_person;  -- it checks for admin

-- A person who leaves or is suspended can no longer sign in; their role stays, so the audit log's names do.
CREATE OR REPLACE FUNCTION public.lfr_disable_person(p_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM public.lfr_require('disable a person', 'admin');
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members AS a JOIN pg_catalog.pg_roles AS m ON m.oid = a.member
                   WHERE a.roleid = 'lfr_person'::pg_catalog.regrole AND m.rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = format('no person named %s', p_name);
    END IF;
    EXECUTE pg_catalog.format('ALTER ROLE %I NOLOGIN', p_name);
    PERFORM public.lfr_audit_person_change('person.disable', p_name, '{}');
END $$;
REVOKE ALL ON FUNCTION public.lfr_disable_person(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.lfr_disable_person(text) TO lfr_person;  -- it checks for admin

-- ======================================================================================================
-- Held alert crops (lfr_core/db/migrations/0014_held_alert_crops.sql). The probe crop of an alert raised
-- while the object store was down waits here, written with its alert row and audit record, until the live
-- service moves it to the store (lfr_core/alerts/service.py). Only the live service (lfr_system) reads or writes
-- it: no person's group has a right on the table, row-level security shows its rows to the service alone,
-- and the trigger refuses a change by anyone else. A person sees a held crop only through the officers'
-- route, which logs the consultation with its reason first (ray_apps/officer_routes.py).
-- ======================================================================================================
CREATE OR REPLACE FUNCTION public.lfr_guard_held_alert_crops() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
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
