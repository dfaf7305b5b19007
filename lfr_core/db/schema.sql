--
-- PostgreSQL database dump
--



SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET transaction_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit; Type: SCHEMA; Schema: -; Owner: lfr_audit
--

CREATE SCHEMA audit;


ALTER SCHEMA audit OWNER TO lfr_audit;

--
-- Name: public; Type: SCHEMA; Schema: -; Owner: lfr_owner
--

-- *not* creating schema, since initdb creates it


ALTER SCHEMA public OWNER TO lfr_owner;

--
-- Name: vector; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;


--
-- Name: EXTENSION vector; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';


--
-- Name: append(text, text, text, text, text, text, jsonb, text); Type: FUNCTION; Schema: audit; Owner: lfr_audit
--

CREATE FUNCTION audit.append(p_occurred_at text, p_actor text, p_role text, p_action text, p_object_type text, p_object_id text, p_details jsonb, p_details_sha256 text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_hash text;
    v_when timestamptz := p_occurred_at::timestamptz;
BEGIN
    -- The row's time is the caller's (it is hashed as written), but it cannot be backdated or postdated.
    IF abs(extract(epoch FROM v_when - clock_timestamp())) > 300 THEN
        RAISE EXCEPTION 'audit row time % is more than 5 minutes from the server clock', p_occurred_at;
    END IF;
    -- Rows are written in the acting person's own name and in a role they hold (public.lfr_holds,
    -- lfr_core/db/policy/); only the platform's service logins write as 'system'.
    IF p_role = 'system' THEN
        IF NOT public.lfr_holds('system') THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('%s may not write the audit log as the platform', public.lfr_actor());
        END IF;
    ELSIF p_actor IS DISTINCT FROM public.lfr_actor() OR NOT public.lfr_holds(p_role) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not write the audit log as %s (%s)', public.lfr_actor(), p_actor, p_role);
    END IF;
    PERFORM pg_advisory_xact_lock(658711);
    SELECT seq, row_hash INTO v_seq, v_prev FROM audit.audit_log ORDER BY seq DESC LIMIT 1;
    v_seq := coalesce(v_seq, 0) + 1;
    v_prev := coalesce(v_prev, '0000000000000000000000000000000000000000000000000000000000000000');
    v_hash := encode(sha256(convert_to(concat_ws(chr(31), v_prev, v_seq::text, p_occurred_at, p_actor, p_role,
                                                 p_action, p_object_type, p_object_id, p_details_sha256), 'UTF8')), 'hex');
    INSERT INTO audit.audit_log (seq, occurred_at, actor, role, action, object_type, object_id, details,
                                 details_sha256, prev_hash, row_hash)
    VALUES (v_seq, v_when, p_actor, p_role, p_action, p_object_type, p_object_id, p_details, p_details_sha256,
            v_prev, v_hash);
    RETURN v_hash;
END $$;


ALTER FUNCTION audit.append(p_occurred_at text, p_actor text, p_role text, p_action text, p_object_type text, p_object_id text, p_details jsonb, p_details_sha256 text) OWNER TO lfr_audit;

--
-- Name: audit_log_refuse_change(); Type: FUNCTION; Schema: audit; Owner: lfr_audit
--

CREATE FUNCTION audit.audit_log_refuse_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END $$;


ALTER FUNCTION audit.audit_log_refuse_change() OWNER TO lfr_audit;

--
-- Name: ensure_hnsw_index(integer, integer, integer); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.ensure_hnsw_index(dim integer, m integer, ef_construction integer) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF dim NOT BETWEEN 1 AND 16000 OR m NOT BETWEEN 2 AND 100 OR ef_construction NOT BETWEEN 4 AND 1000 THEN
        RAISE EXCEPTION 'HNSW parameters out of range: dim %, m %, ef_construction %', dim, m, ef_construction;
    END IF;
    EXECUTE pg_catalog.format('CREATE INDEX IF NOT EXISTS watchlist_embeddings_hnsw_%s ON public.watchlist_embeddings '
                              'USING hnsw ((embedding::public.vector(%s)) public.vector_cosine_ops) '
                              'WITH (m = %s, ef_construction = %s) WHERE embedding_dim = %s',
                              dim, dim, m, ef_construction, dim);
END $$;


ALTER FUNCTION public.ensure_hnsw_index(dim integer, m integer, ef_construction integer) OWNER TO lfr_owner;

--
-- Name: lfr_actor(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_actor() RETURNS text
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(nullif(pg_catalog.current_setting('role'), 'none'), session_user)::text
$$;


ALTER FUNCTION public.lfr_actor() OWNER TO lfr_owner;

--
-- Name: lfr_add_person(text, text[], text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_add_person(p_name text, p_roles text[], p_scram_verifier text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
END $_$;


ALTER FUNCTION public.lfr_add_person(p_name text, p_roles text[], p_scram_verifier text) OWNER TO lfr_owner;

--
-- Name: lfr_after_authorisation(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_after_authorisation() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_after_authorisation() OWNER TO lfr_owner;

--
-- Name: lfr_alert_class(text, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_alert_class(p_status text, p_engagement text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE WHEN p_status = 'declined' THEN 'false_unconfirmed'
                WHEN p_status <> 'confirmed' THEN NULL
                WHEN p_engagement = 'subject' THEN 'true_confirmed'
                WHEN p_engagement = 'someone_else' THEN 'false_confirmed'
                WHEN p_engagement IN ('evaded', 'not_engaged') THEN 'true_unconfirmed' END
$$;


ALTER FUNCTION public.lfr_alert_class(p_status text, p_engagement text) OWNER TO lfr_owner;

--
-- Name: lfr_alert_class(text, text, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_alert_class(p_status text, p_engagement text, p_second text) RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE WHEN p_second = 'declined' THEN 'false_unconfirmed'
                ELSE public.lfr_alert_class(p_status, p_engagement) END
$$;


ALTER FUNCTION public.lfr_alert_class(p_status text, p_engagement text, p_second text) OWNER TO lfr_owner;

--
-- Name: lfr_answers_for(uuid); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_answers_for(p_deployment uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT public.lfr_holds('authoriser') AND (public.lfr_assigned(p_deployment, 'authoriser') OR EXISTS (
        SELECT 1 FROM public.deployments AS d
        WHERE d.id = p_deployment AND d.authorising_officer = public.lfr_actor()))
$$;


ALTER FUNCTION public.lfr_answers_for(p_deployment uuid) OWNER TO lfr_owner;

--
-- Name: lfr_assigned(uuid, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_assigned(p_deployment uuid, p_role text) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT 1 FROM public.deployment_staff AS s
                   WHERE s.deployment_id = p_deployment AND s.person = public.lfr_actor() AND s.role = p_role)
$$;


ALTER FUNCTION public.lfr_assigned(p_deployment uuid, p_role text) OWNER TO lfr_owner;

--
-- Name: lfr_audit_alert_change(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_alert_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_audit_alert_change() OWNER TO lfr_owner;

--
-- Name: lfr_audit_alert_review(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_alert_review() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_audit_alert_review() OWNER TO lfr_owner;

--
-- Name: lfr_audit_camera_registered(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_camera_registered() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM public.lfr_audit_change('deployment.camera', 'deployment', NEW.deployment_id::text,
        pg_catalog.jsonb_build_object('camera', NEW.name, 'width_px', NEW.width_px, 'height_px', NEW.height_px,
                                      'hfov_deg', NEW.hfov_deg, 'face_width_m', NEW.face_width_m,
                                      'face_px', NEW.face_px, 'max_distance_m', NEW.max_distance_m),
        '{planner,admin,system}');
    RETURN NULL;
END $$;


ALTER FUNCTION public.lfr_audit_camera_registered() OWNER TO lfr_owner;

--
-- Name: lfr_audit_change(text, text, text, jsonb, text[]); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_change(p_action text, p_object_type text, p_object_id text, p_facts jsonb, p_roles text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_audit_change(p_action text, p_object_type text, p_object_id text, p_facts jsonb, p_roles text[]) OWNER TO lfr_owner;

--
-- Name: lfr_audit_deployment_change(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_deployment_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM public.lfr_audit_change('deployment.' || NEW.status, 'deployment', NEW.id::text,
        pg_catalog.jsonb_build_object('from', OLD.status, 'to', NEW.status)
        || CASE WHEN NEW.status = 'cancelled' THEN pg_catalog.jsonb_build_object('reason', NEW.cancel_reason)
                ELSE '{}' END,
        public.lfr_transition_roles('deployment', OLD.status, NEW.status));
    RETURN NULL;
END $$;


ALTER FUNCTION public.lfr_audit_deployment_change() OWNER TO lfr_owner;

--
-- Name: lfr_audit_gate_change(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_gate_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM public.lfr_audit_change('watchlist.gate', 'watchlist_version', NEW.id::text,
        pg_catalog.jsonb_build_object('deployment_id', NEW.deployment_id, 'version', NEW.version,
                                      'from_face_px', coalesce(OLD.gate_face_px, OLD.reliable_face_px),
                                      'gate_face_px', NEW.gate_face_px, 'reliable_face_px', NEW.reliable_face_px,
                                      'decided_by', NEW.gate_decided_by, 'reason', NEW.gate_reason),
        '{authoriser}');
    RETURN NULL;
END $$;


ALTER FUNCTION public.lfr_audit_gate_change() OWNER TO lfr_owner;

--
-- Name: lfr_audit_person_change(text, text, jsonb); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_person_change(p_action text, p_name text, p_details jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM public.lfr_audit_row(p_action, 'person', p_name, public.lfr_actor(),
                                 CASE WHEN (SELECT r.rolsuper FROM pg_catalog.pg_roles AS r
                                            WHERE r.rolname = public.lfr_actor()) THEN 'system' ELSE 'admin' END,
                                 p_details);
END $$;


ALTER FUNCTION public.lfr_audit_person_change(p_action text, p_name text, p_details jsonb) OWNER TO lfr_owner;

--
-- Name: lfr_audit_policy_pack(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_policy_pack() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM public.lfr_audit_change('policy.load', 'policy_pack', NEW.name || ' v' || NEW.version,
        pg_catalog.jsonb_build_object('name', NEW.name, 'version', NEW.version, 'content_sha256', NEW.content_sha256),
        '{admin,system}');
    RETURN NULL;
END $$;


ALTER FUNCTION public.lfr_audit_policy_pack() OWNER TO lfr_owner;

--
-- Name: lfr_audit_row(text, text, text, text, text, jsonb); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_row(p_action text, p_object_type text, p_object_id text, p_actor text, p_role text, p_details jsonb) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_audit_row(p_action text, p_object_type text, p_object_id text, p_actor text, p_role text, p_details jsonb) OWNER TO lfr_owner;

--
-- Name: lfr_audit_staff_change(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_staff_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    staff public.deployment_staff := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
BEGIN
    PERFORM public.lfr_audit_change(CASE WHEN TG_OP = 'DELETE' THEN 'deployment.unassign' ELSE 'deployment.assign' END,
                                    'deployment', staff.deployment_id::text,
                                    pg_catalog.jsonb_build_object('person', staff.person, 'role', staff.role),
                                    '{planner,admin,system}');
    RETURN NULL;
END $$;


ALTER FUNCTION public.lfr_audit_staff_change() OWNER TO lfr_owner;

--
-- Name: lfr_audit_threshold_change(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_threshold_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_audit_threshold_change() OWNER TO lfr_owner;

--
-- Name: lfr_audit_version_change(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_audit_version_change() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_audit_version_change() OWNER TO lfr_owner;

--
-- Name: lfr_authorisation_state(uuid); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_authorisation_state(p_deployment uuid) RETURNS text
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_authorisation_state(p_deployment uuid) OWNER TO lfr_owner;

--
-- Name: lfr_canonical_json(jsonb); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_canonical_json(j jsonb) RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_canonical_json(j jsonb) OWNER TO lfr_owner;

SET default_table_access_method = heap;

--
-- Name: deployments; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.deployments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    place text NOT NULL,
    purpose text NOT NULL,
    legal_basis text NOT NULL,
    intelligence_ref text NOT NULL,
    window_start timestamp with time zone NOT NULL,
    window_end timestamp with time zone NOT NULL,
    authorising_officer text NOT NULL,
    allowed_categories text[] NOT NULL,
    threshold real,
    status text DEFAULT 'planned'::text NOT NULL,
    created_by text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    cancel_reason text,
    report_pending_alerts integer,
    policy_name text,
    policy_version integer,
    use_case text,
    location_rationale text,
    dpia_ref text,
    eia_ref text,
    fria_ref text,
    registration_ref text,
    notice_withheld_reason text,
    threshold_decision_id bigint,
    CONSTRAINT deployments_allowed_categories_check CHECK ((cardinality(allowed_categories) > 0)),
    CONSTRAINT deployments_authorising_officer_check CHECK ((authorising_officer <> ''::text)),
    CONSTRAINT deployments_check CHECK ((window_end > window_start)),
    CONSTRAINT deployments_dpia_ref_check CHECK ((btrim(dpia_ref) <> ''::text)),
    CONSTRAINT deployments_eia_ref_check CHECK ((btrim(eia_ref) <> ''::text)),
    CONSTRAINT deployments_fria_ref_check CHECK ((btrim(fria_ref) <> ''::text)),
    CONSTRAINT deployments_intelligence_ref_check CHECK ((intelligence_ref <> ''::text)),
    CONSTRAINT deployments_legal_basis_check CHECK ((legal_basis <> ''::text)),
    CONSTRAINT deployments_location_rationale_check CHECK ((btrim(location_rationale) <> ''::text)),
    CONSTRAINT deployments_notice_withheld_reason_check CHECK ((btrim(notice_withheld_reason) <> ''::text)),
    CONSTRAINT deployments_place_check CHECK ((place <> ''::text)),
    CONSTRAINT deployments_policy_whole CHECK ((num_nulls(policy_name, policy_version, use_case, location_rationale) = ANY (ARRAY[0, 4]))),
    CONSTRAINT deployments_purpose_check CHECK ((purpose <> ''::text)),
    CONSTRAINT deployments_registration_ref_check CHECK ((btrim(registration_ref) <> ''::text)),
    CONSTRAINT deployments_status_check CHECK ((status = ANY (ARRAY['planned'::text, 'live'::text, 'closed'::text, 'cancelled'::text, 'lapsed'::text]))),
    CONSTRAINT deployments_threshold_check CHECK (((threshold > (0)::double precision) AND (threshold < (1)::double precision)))
);


ALTER TABLE public.deployments OWNER TO lfr_owner;

--
-- Name: lfr_check_deployment_pack(public.deployments); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_deployment_pack(d public.deployments) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_deployment_pack(d public.deployments) OWNER TO lfr_owner;

--
-- Name: watchlist_entries; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.watchlist_entries (
    id bigint NOT NULL,
    version_id uuid NOT NULL,
    subject_ref text NOT NULL,
    category text NOT NULL,
    rationale text NOT NULL,
    provenance text NOT NULL,
    capture_date date,
    source_uri text NOT NULL,
    image_sha256 text,
    image_uri text,
    status text NOT NULL,
    reason text,
    quality jsonb,
    image_index integer DEFAULT 0 NOT NULL,
    image_purge text,
    legal_basis text,
    date_of_birth date,
    age_band text,
    under_18_rationale text,
    CONSTRAINT watchlist_entries_age_band_check CHECK ((age_band = ANY (ARRAY['under_18'::text, '18_plus'::text]))),
    CONSTRAINT watchlist_entries_image_index_check CHECK ((image_index >= 0)),
    CONSTRAINT watchlist_entries_image_purge_check CHECK ((image_purge = ANY (ARRAY['deleting'::text, 'deleted'::text, 'missing'::text, 'kept'::text]))),
    CONSTRAINT watchlist_entries_legal_basis_check CHECK ((btrim(legal_basis) <> ''::text)),
    CONSTRAINT watchlist_entries_status_check CHECK ((status = ANY (ARRAY['accepted'::text, 'rejected'::text]))),
    CONSTRAINT watchlist_entries_under_18_rationale_check CHECK ((btrim(under_18_rationale) <> ''::text))
);


ALTER TABLE public.watchlist_entries OWNER TO lfr_owner;

--
-- Name: lfr_check_entry_age(public.watchlist_entries); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_entry_age(e public.watchlist_entries) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_entry_age(e public.watchlist_entries) OWNER TO lfr_owner;

--
-- Name: lfr_check_entry_category(uuid, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_entry_category(p_version uuid, p_category text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_entry_category(p_version uuid, p_category text) OWNER TO lfr_owner;

--
-- Name: watchlist_versions; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.watchlist_versions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    deployment_id uuid NOT NULL,
    version integer NOT NULL,
    state text DEFAULT 'draft'::text NOT NULL,
    build_key text,
    built_by text NOT NULL,
    built_at timestamp with time zone DEFAULT now() NOT NULL,
    manifest_uri text NOT NULL,
    manifest_sha256 text NOT NULL,
    detector jsonb NOT NULL,
    embedder jsonb NOT NULL,
    embedder_sha256 text NOT NULL,
    embedding_dim integer NOT NULL,
    threshold real NOT NULL,
    entries_total integer NOT NULL,
    entries_accepted integer NOT NULL,
    entries_rejected integer NOT NULL,
    snapshot_uri text,
    snapshot_sha256 text,
    snapshot_version text,
    approved_by text,
    approved_at timestamp with time zone,
    criteria_sha256 text,
    activated_at timestamp with time zone,
    expired_at timestamp with time zone,
    purged_at timestamp with time zone,
    purge_receipt jsonb,
    threshold_source text,
    purge_progress jsonb,
    evidence_calibration_id bigint,
    evidence_target_fpir double precision,
    evidence jsonb,
    evidence_override_by text,
    evidence_override_reason text,
    evidence_override_at timestamp with time zone,
    reliable_face_px integer,
    reliable_face_source jsonb,
    gate_face_px integer,
    gate_decided_by text,
    gate_reason text,
    gate_decided_at timestamp with time zone,
    CONSTRAINT watchlist_versions_embedding_dim_check CHECK ((embedding_dim > 0)),
    CONSTRAINT watchlist_versions_evidence_override_check CHECK ((num_nonnulls(evidence_override_by, evidence_override_reason, evidence_override_at) = ANY (ARRAY[0, 3]))),
    CONSTRAINT watchlist_versions_evidence_target_fpir_check CHECK (((evidence_target_fpir > (0)::double precision) AND (evidence_target_fpir <= (0.5)::double precision))),
    CONSTRAINT watchlist_versions_gate_decision_check CHECK ((num_nonnulls(gate_decided_by, gate_reason, gate_decided_at) = ANY (ARRAY[0, 3]))),
    CONSTRAINT watchlist_versions_gate_face_px_check CHECK ((gate_face_px > 0)),
    CONSTRAINT watchlist_versions_reliable_face_px_check CHECK ((reliable_face_px > 0)),
    CONSTRAINT watchlist_versions_state_check CHECK ((state = ANY (ARRAY['draft'::text, 'approved'::text, 'active'::text, 'expired'::text, 'purging'::text, 'purged'::text]))),
    CONSTRAINT watchlist_versions_threshold_check CHECK (((threshold > (0)::double precision) AND (threshold < (1)::double precision))),
    CONSTRAINT watchlist_versions_version_check CHECK ((version > 0))
);


ALTER TABLE public.watchlist_versions OWNER TO lfr_owner;

--
-- Name: lfr_check_gate(public.watchlist_versions, public.watchlist_versions); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_gate(n public.watchlist_versions, o public.watchlist_versions) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_gate(n public.watchlist_versions, o public.watchlist_versions) OWNER TO lfr_owner;

--
-- Name: lfr_check_list_age(public.watchlist_versions); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_list_age(v public.watchlist_versions) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_list_age(v public.watchlist_versions) OWNER TO lfr_owner;

--
-- Name: lfr_check_planned_threshold(public.deployments); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_planned_threshold(d public.deployments) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_planned_threshold(d public.deployments) OWNER TO lfr_owner;

--
-- Name: lfr_check_reliable_size(public.watchlist_versions); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_reliable_size(v public.watchlist_versions) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_reliable_size(v public.watchlist_versions) OWNER TO lfr_owner;

--
-- Name: lfr_check_threshold_change(public.deployments, public.deployments); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_threshold_change(n public.deployments, o public.deployments) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_threshold_change(n public.deployments, o public.deployments) OWNER TO lfr_owner;

--
-- Name: lfr_check_version_threshold(public.watchlist_versions); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_check_version_threshold(v public.watchlist_versions) RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_check_version_threshold(v public.watchlist_versions) OWNER TO lfr_owner;

--
-- Name: lfr_consult_watchlist(uuid, text, text, jsonb); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_consult_watchlist(p_version uuid, p_what text, p_reason text, p_details jsonb) RETURNS public.watchlist_versions
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_consult_watchlist(p_version uuid, p_what text, p_reason text, p_details jsonb) OWNER TO lfr_owner;

--
-- Name: lfr_curve_reliable_px(bigint, double precision); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_curve_reliable_px(p_curve_id bigint, factor double precision) RETURNS integer
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_curve_reliable_px(p_curve_id bigint, factor double precision) OWNER TO lfr_owner;

--
-- Name: lfr_deny(text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_deny(message text) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', MESSAGE = message;
END $$;


ALTER FUNCTION public.lfr_deny(message text) OWNER TO lfr_owner;

--
-- Name: lfr_disable_person(text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_disable_person(p_name text) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM public.lfr_require('disable a person', 'admin');
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_auth_members AS a JOIN pg_catalog.pg_roles AS m ON m.oid = a.member
                   WHERE a.roleid = 'lfr_person'::pg_catalog.regrole AND m.rolname = p_name) THEN
        RAISE EXCEPTION USING ERRCODE = 'undefined_object', MESSAGE = format('no person named %s', p_name);
    END IF;
    EXECUTE pg_catalog.format('ALTER ROLE %I NOLOGIN', p_name);
    PERFORM public.lfr_audit_person_change('person.disable', p_name, '{}');
END $$;


ALTER FUNCTION public.lfr_disable_person(p_name text) OWNER TO lfr_owner;

--
-- Name: lfr_discard_use(uuid, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_discard_use(p_deployment uuid, p_reason text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_discard_use(p_deployment uuid, p_reason text) OWNER TO lfr_owner;

--
-- Name: lfr_equitability_clear(jsonb); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_equitability_clear(verdict jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT NOT public.lfr_equitability_flagged(verdict)
       AND (coalesce((verdict -> 'ratios' -> 'fnir' ->> 'testable')::boolean, false)
            OR coalesce((verdict -> 'ratios' -> 'fpir' ->> 'testable')::boolean, false))
$$;


ALTER FUNCTION public.lfr_equitability_clear(verdict jsonb) OWNER TO lfr_owner;

--
-- Name: lfr_equitability_flagged(jsonb); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_equitability_flagged(verdict jsonb) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce((verdict -> 'ratios' -> 'fnir' ->> 'flag')::boolean, false)
        OR coalesce((verdict -> 'ratios' -> 'fpir' ->> 'flag')::boolean, false)
$$;


ALTER FUNCTION public.lfr_equitability_flagged(verdict jsonb) OWNER TO lfr_owner;

--
-- Name: lfr_evidence_resolves(public.watchlist_versions); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_evidence_resolves(v public.watchlist_versions) RETURNS boolean
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_evidence_resolves(v public.watchlist_versions) OWNER TO lfr_owner;

--
-- Name: lfr_guard_alert_reviews(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_alert_reviews() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_alert_reviews() OWNER TO lfr_owner;

--
-- Name: lfr_guard_alerts(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_alerts() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_alerts() OWNER TO lfr_owner;

--
-- Name: lfr_guard_authorisations(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_authorisations() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_authorisations() OWNER TO lfr_owner;

--
-- Name: lfr_guard_counters(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_counters() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_counters() OWNER TO lfr_owner;

--
-- Name: lfr_guard_deployment_cameras(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_deployment_cameras() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_deployment_cameras() OWNER TO lfr_owner;

--
-- Name: lfr_guard_deployments(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_deployments() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_deployments() OWNER TO lfr_owner;

--
-- Name: lfr_guard_held_alert_crops(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_held_alert_crops() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_held_alert_crops() OWNER TO lfr_owner;

--
-- Name: lfr_guard_platform_table(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_platform_table() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    -- TG_ARGV: what the change is, then the roles that may make it.
    PERFORM public.lfr_require(TG_ARGV[0], VARIADIC TG_ARGV[1:]);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;


ALTER FUNCTION public.lfr_guard_platform_table() OWNER TO lfr_owner;

--
-- Name: lfr_guard_policy_packs(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_policy_packs() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_policy_packs() OWNER TO lfr_owner;

--
-- Name: lfr_guard_staff(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_staff() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_staff() OWNER TO lfr_owner;

--
-- Name: lfr_guard_threshold_decisions(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_threshold_decisions() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_threshold_decisions() OWNER TO lfr_owner;

--
-- Name: lfr_guard_watchlist_content(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_watchlist_content() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_watchlist_content() OWNER TO lfr_owner;

--
-- Name: lfr_guard_watchlist_versions(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_guard_watchlist_versions() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_guard_watchlist_versions() OWNER TO lfr_owner;

--
-- Name: lfr_holds(text[]); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_holds(VARIADIC wanted text[]) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.unnest(wanted) AS w
                   JOIN pg_catalog.pg_roles AS g ON g.rolname = 'lfr_' || w
                   WHERE pg_catalog.pg_has_role(public.lfr_actor(), g.oid, 'USAGE'))
$$;


ALTER FUNCTION public.lfr_holds(VARIADIC wanted text[]) OWNER TO lfr_owner;

--
-- Name: lfr_legacy_decision(text, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_legacy_decision(p_status text, p_engagement text, OUT status text, OUT engagement text, OUT disposal text) RETURNS record
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT CASE WHEN p_status = 'not_engaged' THEN 'confirmed' ELSE p_status END,
           CASE WHEN p_status = 'not_engaged' THEN 'not_engaged'
                WHEN p_engagement IN ('arrested', 'spoken_to', 'no_further_action') THEN 'subject'
                WHEN p_engagement = 'misidentified' THEN 'someone_else'
                ELSE p_engagement END,
           CASE p_engagement WHEN 'arrested' THEN 'arrest' WHEN 'spoken_to' THEN 'other'
                             WHEN 'no_further_action' THEN 'no_action' WHEN 'misidentified' THEN 'no_action' END
$$;


ALTER FUNCTION public.lfr_legacy_decision(p_status text, p_engagement text, OUT status text, OUT engagement text, OUT disposal text) OWNER TO lfr_owner;

--
-- Name: lfr_missing_references(uuid); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_missing_references(p_deployment uuid) RETURNS text[]
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(pg_catalog.array_agg(a ORDER BY n), '{}')
    FROM public.deployments AS d
    JOIN public.policy_packs AS p ON p.name = d.policy_name AND p.version = d.policy_version,
         pg_catalog.jsonb_array_elements_text(p.content -> 'required_assessments') WITH ORDINALITY AS r(a, n)
    WHERE d.id = p_deployment AND pg_catalog.to_jsonb(d) ->> (a || '_ref') IS NULL
$$;


ALTER FUNCTION public.lfr_missing_references(p_deployment uuid) OWNER TO lfr_owner;

--
-- Name: lfr_pack_use_case(text, integer, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_pack_use_case(p_name text, p_version integer, p_use_case text) RETURNS jsonb
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT u FROM public.policy_packs AS p, pg_catalog.jsonb_array_elements(p.content -> 'use_cases') AS u
    WHERE p.name = p_name AND p.version = p_version AND u ->> 'id' = p_use_case
$$;


ALTER FUNCTION public.lfr_pack_use_case(p_name text, p_version integer, p_use_case text) OWNER TO lfr_owner;

--
-- Name: lfr_probe_watchlist(uuid, text[], integer, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_probe_watchlist(p_version uuid, p_probes text[], p_k integer, p_reason text) RETURNS TABLE(probe integer, entry_id bigint, subject_ref text, image_index integer, category text, score double precision)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_probe_watchlist(p_version uuid, p_probes text[], p_k integer, p_reason text) OWNER TO lfr_owner;

--
-- Name: lfr_refuse(text, text[]); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_refuse(what text, VARIADIC wanted text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
        MESSAGE = pg_catalog.format('%s may not %s; that needs the role %s', public.lfr_actor(), what,
                                    pg_catalog.array_to_string(wanted, ' or '));
END $$;


ALTER FUNCTION public.lfr_refuse(what text, VARIADIC wanted text[]) OWNER TO lfr_owner;

--
-- Name: lfr_require(text, text[]); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_require(what text, VARIADIC wanted text[]) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF NOT public.lfr_holds(VARIADIC wanted) THEN
        PERFORM public.lfr_refuse(what, VARIADIC wanted);
    END IF;
END $$;


ALTER FUNCTION public.lfr_require(what text, VARIADIC wanted text[]) OWNER TO lfr_owner;

--
-- Name: lfr_require_own_name(text, text, boolean); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_require_own_name(what text, named text, system_may boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF named IS DISTINCT FROM public.lfr_actor() AND NOT (system_may AND public.lfr_holds('system')) THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s may not %s in the name of %s', public.lfr_actor(), what,
                                                  coalesce(named, 'no one')));
    END IF;
END $$;


ALTER FUNCTION public.lfr_require_own_name(what text, named text, system_may boolean) OWNER TO lfr_owner;

--
-- Name: lfr_stop_use(uuid); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_stop_use(p_deployment uuid) RETURNS integer
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    n integer;
BEGIN
    PERFORM pg_catalog.set_config('lfr.change', '', true);
    UPDATE public.watchlist_versions SET state = 'expired'
    WHERE deployment_id = p_deployment AND state IN ('approved', 'active');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;


ALTER FUNCTION public.lfr_stop_use(p_deployment uuid) OWNER TO lfr_owner;

--
-- Name: lfr_superuser(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_superuser() RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user), false)
$$;


ALTER FUNCTION public.lfr_superuser() OWNER TO lfr_owner;

--
-- Name: lfr_threshold_floor(text, integer, text, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_threshold_floor(p_policy text, p_version integer, p_model text, p_embedder_sha256 text) RETURNS double precision
    LANGUAGE plpgsql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_threshold_floor(p_policy text, p_version integer, p_model text, p_embedder_sha256 text) OWNER TO lfr_owner;

--
-- Name: state_transitions; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.state_transitions (
    object_type text NOT NULL,
    from_state text NOT NULL,
    to_state text NOT NULL,
    roles text[] NOT NULL,
    assigned text,
    requires text[] DEFAULT '{}'::text[] NOT NULL,
    CONSTRAINT state_transitions_check CHECK (((assigned IS NULL) OR (assigned = ANY (roles)))),
    CONSTRAINT state_transitions_object_type_check CHECK ((object_type = ANY (ARRAY['watchlist_version'::text, 'deployment'::text]))),
    CONSTRAINT state_transitions_requires_check CHECK ((requires <@ ARRAY['four_eyes'::text, 'approved'::text, 'in_window'::text, 'before_window_end'::text, 'deployment_open'::text, 'list_active'::text, 'window_ended'::text, 'resolved_evidence'::text, 'pack_references'::text, 'authorised'::text])),
    CONSTRAINT state_transitions_roles_check CHECK ((cardinality(roles) > 0))
);


ALTER TABLE public.state_transitions OWNER TO lfr_owner;

--
-- Name: lfr_transition(text, text, text, uuid, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_transition(p_object text, p_from text, p_to text, p_deployment uuid, p_what text) RETURNS public.state_transitions
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_transition(p_object text, p_from text, p_to text, p_deployment uuid, p_what text) OWNER TO lfr_owner;

--
-- Name: lfr_transition_roles(text, text, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_transition_roles(p_object text, p_from text, p_to text) RETURNS text[]
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce((SELECT t.roles FROM public.state_transitions AS t
                     WHERE t.object_type = p_object AND t.from_state = p_from AND t.to_state = p_to), '{system}')
$$;


ALTER FUNCTION public.lfr_transition_roles(p_object text, p_from text, p_to text) OWNER TO lfr_owner;

--
-- Name: lfr_two_person(uuid); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_two_person(p_deployment uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce((SELECT (p.content ->> 'two_person_verification')::boolean
                     FROM public.deployments AS d
                     JOIN public.policy_packs AS p ON p.name = d.policy_name AND p.version = d.policy_version
                     WHERE d.id = p_deployment), false)
$$;


ALTER FUNCTION public.lfr_two_person(p_deployment uuid) OWNER TO lfr_owner;

--
-- Name: lfr_under_18(date, text, timestamp with time zone); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_under_18(p_date_of_birth date, p_age_band text, p_at timestamp with time zone) RETURNS boolean
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(p_age_band = 'under_18', false)
        OR coalesce(p_date_of_birth + interval '18 years' > (p_at AT TIME ZONE 'UTC')::date, false)
$$;


ALTER FUNCTION public.lfr_under_18(p_date_of_birth date, p_age_band text, p_at timestamp with time zone) OWNER TO lfr_owner;

--
-- Name: lfr_undo_window(); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_undo_window() RETURNS interval
    LANGUAGE sql IMMUTABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$ SELECT interval '30 seconds' $$;


ALTER FUNCTION public.lfr_undo_window() OWNER TO lfr_owner;

--
-- Name: lfr_use_stopped(uuid); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_use_stopped(p_deployment uuid) RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT public.lfr_authorisation_state(p_deployment) IN ('refused', 'lapsed')
$$;


ALTER FUNCTION public.lfr_use_stopped(p_deployment uuid) OWNER TO lfr_owner;

--
-- Name: lfr_watchlist_faces(uuid, integer, integer, text); Type: FUNCTION; Schema: public; Owner: lfr_owner
--

CREATE FUNCTION public.lfr_watchlist_faces(p_version uuid, p_page integer, p_per_page integer, p_reason text) RETURNS TABLE(entry_id bigint, subject_ref text, image_index integer, category text, image_uri text, quality jsonb)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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


ALTER FUNCTION public.lfr_watchlist_faces(p_version uuid, p_page integer, p_per_page integer, p_reason text) OWNER TO lfr_owner;

--
-- Name: audit_log; Type: TABLE; Schema: audit; Owner: lfr_audit
--

CREATE TABLE audit.audit_log (
    seq bigint NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    role text NOT NULL,
    action text NOT NULL,
    object_type text NOT NULL,
    object_id text NOT NULL,
    details jsonb NOT NULL,
    details_sha256 text NOT NULL,
    prev_hash text NOT NULL,
    row_hash text NOT NULL,
    CONSTRAINT audit_log_action_check CHECK ((action <> ''::text)),
    CONSTRAINT audit_log_actor_check CHECK ((actor <> ''::text)),
    CONSTRAINT audit_log_role_check CHECK ((role <> ''::text))
);


ALTER TABLE audit.audit_log OWNER TO lfr_audit;

--
-- Name: alert_reviews; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.alert_reviews (
    alert_id uuid NOT NULL,
    deployment_id uuid NOT NULL,
    alert_class text NOT NULL,
    reviewer text NOT NULL,
    assigned_by text NOT NULL,
    assigned_at timestamp with time zone DEFAULT now() NOT NULL,
    finding text,
    reviewed_at timestamp with time zone,
    CONSTRAINT alert_reviews_alert_class_check CHECK ((alert_class = ANY (ARRAY['true_unconfirmed'::text, 'false_confirmed'::text, 'false_unconfirmed'::text]))),
    CONSTRAINT alert_reviews_check CHECK (((finding IS NULL) = (reviewed_at IS NULL))),
    CONSTRAINT alert_reviews_finding_check CHECK ((length(btrim(finding)) > 0))
);


ALTER TABLE public.alert_reviews OWNER TO lfr_owner;

--
-- Name: alerts; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.alerts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    deployment_id uuid NOT NULL,
    version_id uuid NOT NULL,
    subject_ref text NOT NULL,
    category text NOT NULL,
    score real NOT NULL,
    camera_id text NOT NULL,
    track_id text NOT NULL,
    captured_at timestamp with time zone NOT NULL,
    raised_at timestamp with time zone DEFAULT now() NOT NULL,
    probe_crop_uri text,
    watchlist_image_uri text,
    status text DEFAULT 'pending'::text NOT NULL,
    adjudicated_by text,
    adjudicated_at timestamp with time zone,
    outcome text,
    legal_hold boolean DEFAULT false NOT NULL,
    engagement text,
    engagement_by text,
    engagement_at timestamp with time zone,
    engagement_note text,
    disposal text,
    migrated_from jsonb,
    second_status text,
    second_by text,
    second_at timestamp with time zone,
    CONSTRAINT alerts_disposal_check CHECK ((disposal = ANY (ARRAY['arrest'::text, 'other'::text, 'no_action'::text]))),
    CONSTRAINT alerts_disposal_when_engaged CHECK (((disposal IS NOT NULL) = COALESCE((engagement = ANY (ARRAY['subject'::text, 'someone_else'::text])), false))),
    CONSTRAINT alerts_engagement_check CHECK ((engagement = ANY (ARRAY['subject'::text, 'someone_else'::text, 'evaded'::text, 'not_engaged'::text]))),
    CONSTRAINT alerts_second_after_first CHECK (((second_status IS NULL) OR (status <> 'pending'::text))),
    CONSTRAINT alerts_second_other_officer CHECK (((second_by IS DISTINCT FROM adjudicated_by) OR (second_by IS NULL))),
    CONSTRAINT alerts_second_status_check CHECK ((second_status = ANY (ARRAY['confirmed'::text, 'declined'::text]))),
    CONSTRAINT alerts_second_whole CHECK ((num_nulls(second_status, second_by, second_at) = ANY (ARRAY[0, 3]))),
    CONSTRAINT alerts_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'confirmed'::text, 'declined'::text])))
);


ALTER TABLE public.alerts OWNER TO lfr_owner;

--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.api_keys (
    key_sha256 text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    deployment_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_role_check CHECK (((role = 'camera'::text) OR (revoked_at IS NOT NULL)))
);


ALTER TABLE public.api_keys OWNER TO lfr_owner;

--
-- Name: deployment_authorisations; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.deployment_authorisations (
    id bigint NOT NULL,
    deployment_id uuid NOT NULL,
    kind text NOT NULL,
    authority text,
    decision_ref text,
    decided_on date,
    scope text,
    justification text,
    deadline timestamp with time zone,
    recorded_by text NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    authority_kind text,
    CONSTRAINT deployment_authorisations_authority_check CHECK ((btrim(authority) <> ''::text)),
    CONSTRAINT deployment_authorisations_authority_kind_check CHECK ((authority_kind = ANY (ARRAY['judicial'::text, 'administrative'::text]))),
    CONSTRAINT deployment_authorisations_check CHECK (((kind <> 'granted'::text) OR (num_nulls(authority, decision_ref, decided_on, scope) = 0))),
    CONSTRAINT deployment_authorisations_check1 CHECK (((kind <> 'refused'::text) OR (num_nulls(authority, decision_ref) = 0))),
    CONSTRAINT deployment_authorisations_check2 CHECK (((kind = 'urgent_start'::text) = ((justification IS NOT NULL) AND (deadline IS NOT NULL)))),
    CONSTRAINT deployment_authorisations_decision_ref_check CHECK ((btrim(decision_ref) <> ''::text)),
    CONSTRAINT deployment_authorisations_justification_check CHECK ((btrim(justification) <> ''::text)),
    CONSTRAINT deployment_authorisations_kind_check CHECK ((kind = ANY (ARRAY['granted'::text, 'refused'::text, 'urgent_start'::text]))),
    CONSTRAINT deployment_authorisations_scope_check CHECK ((btrim(scope) <> ''::text))
);


ALTER TABLE public.deployment_authorisations OWNER TO lfr_owner;

--
-- Name: deployment_authorisations_id_seq; Type: SEQUENCE; Schema: public; Owner: lfr_owner
--

CREATE SEQUENCE public.deployment_authorisations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.deployment_authorisations_id_seq OWNER TO lfr_owner;

--
-- Name: deployment_authorisations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: lfr_owner
--

ALTER SEQUENCE public.deployment_authorisations_id_seq OWNED BY public.deployment_authorisations.id;


--
-- Name: deployment_cameras; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.deployment_cameras (
    id bigint NOT NULL,
    deployment_id uuid NOT NULL,
    name text NOT NULL,
    width_px integer NOT NULL,
    height_px integer NOT NULL,
    hfov_deg double precision NOT NULL,
    face_width_m double precision NOT NULL,
    face_px integer NOT NULL,
    face_px_source text NOT NULL,
    max_distance_m double precision NOT NULL,
    registered_by text NOT NULL,
    registered_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT deployment_cameras_face_px_check CHECK ((face_px > 0)),
    CONSTRAINT deployment_cameras_face_width_m_check CHECK (((face_width_m > (0)::double precision) AND (face_width_m <= (1)::double precision))),
    CONSTRAINT deployment_cameras_height_px_check CHECK ((height_px > 0)),
    CONSTRAINT deployment_cameras_hfov_deg_check CHECK (((hfov_deg > (0)::double precision) AND (hfov_deg < (180)::double precision))),
    CONSTRAINT deployment_cameras_max_distance_m_check CHECK ((max_distance_m > (0)::double precision)),
    CONSTRAINT deployment_cameras_name_check CHECK (((btrim(name) <> ''::text) AND (length(name) <= 200))),
    CONSTRAINT deployment_cameras_width_px_check CHECK ((width_px > 0))
);


ALTER TABLE public.deployment_cameras OWNER TO lfr_owner;

--
-- Name: deployment_cameras_id_seq; Type: SEQUENCE; Schema: public; Owner: lfr_owner
--

CREATE SEQUENCE public.deployment_cameras_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.deployment_cameras_id_seq OWNER TO lfr_owner;

--
-- Name: deployment_cameras_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: lfr_owner
--

ALTER SEQUENCE public.deployment_cameras_id_seq OWNED BY public.deployment_cameras.id;


--
-- Name: deployment_counters; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.deployment_counters (
    deployment_id uuid NOT NULL,
    camera_id text NOT NULL,
    frames bigint DEFAULT 0 NOT NULL,
    faces_seen bigint DEFAULT 0 NOT NULL,
    frames_refused bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    frames_dropped bigint DEFAULT 0 NOT NULL,
    faces_refused_small bigint DEFAULT 0 NOT NULL,
    faces_refused_other bigint DEFAULT 0 NOT NULL,
    faces_below_reliable bigint DEFAULT 0 NOT NULL,
    faces_reliable bigint DEFAULT 0 NOT NULL,
    reliable_face_px integer,
    frames_not_sent bigint DEFAULT 0 NOT NULL,
    CONSTRAINT deployment_counters_faces_below_reliable_check CHECK ((faces_below_reliable >= 0)),
    CONSTRAINT deployment_counters_faces_refused_other_check CHECK ((faces_refused_other >= 0)),
    CONSTRAINT deployment_counters_faces_refused_small_check CHECK ((faces_refused_small >= 0)),
    CONSTRAINT deployment_counters_faces_reliable_check CHECK ((faces_reliable >= 0)),
    CONSTRAINT deployment_counters_frames_not_sent_check CHECK ((frames_not_sent >= 0)),
    CONSTRAINT deployment_counters_reliable_face_px_check CHECK ((reliable_face_px > 0))
);


ALTER TABLE public.deployment_counters OWNER TO lfr_owner;

--
-- Name: deployment_staff; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.deployment_staff (
    deployment_id uuid NOT NULL,
    person text NOT NULL,
    role text NOT NULL,
    assigned_by text NOT NULL,
    assigned_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT deployment_staff_person_check CHECK ((person <> ''::text)),
    CONSTRAINT deployment_staff_role_check CHECK ((role = ANY (ARRAY['operator'::text, 'authoriser'::text])))
);


ALTER TABLE public.deployment_staff OWNER TO lfr_owner;

--
-- Name: held_alert_crops; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.held_alert_crops (
    alert_id uuid NOT NULL,
    crop bytea NOT NULL,
    crop_sha256 text NOT NULL,
    held_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT held_alert_crops_crop_check CHECK ((octet_length(crop) > 0)),
    CONSTRAINT held_alert_crops_crop_sha256_check CHECK ((crop_sha256 ~ '^[0-9a-f]{64}$'::text))
);


ALTER TABLE public.held_alert_crops OWNER TO lfr_owner;

--
-- Name: model_calibrations; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.model_calibrations (
    id bigint NOT NULL,
    embedder_sha256 text NOT NULL,
    detector_sha256 text NOT NULL,
    model jsonb NOT NULL,
    manifest text NOT NULL,
    n_gallery integer NOT NULL,
    nonmated_top_scores real[] NOT NULL,
    summary jsonb NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    group_by text,
    searches jsonb,
    enrolments jsonb,
    impostor_pairs bigint,
    impostor_tail jsonb,
    CONSTRAINT model_calibrations_impostor_pairs_check CHECK ((impostor_pairs >= 0)),
    CONSTRAINT model_calibrations_impostor_tail_check CHECK (((impostor_tail IS NULL) OR (jsonb_typeof(impostor_tail) = 'array'::text))),
    CONSTRAINT model_calibrations_n_gallery_check CHECK ((n_gallery > 0)),
    CONSTRAINT model_calibrations_nonmated_top_scores_check CHECK ((cardinality(nonmated_top_scores) > 0))
);


ALTER TABLE public.model_calibrations OWNER TO lfr_owner;

--
-- Name: model_calibrations_id_seq; Type: SEQUENCE; Schema: public; Owner: lfr_owner
--

CREATE SEQUENCE public.model_calibrations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.model_calibrations_id_seq OWNER TO lfr_owner;

--
-- Name: model_calibrations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: lfr_owner
--

ALTER SEQUENCE public.model_calibrations_id_seq OWNED BY public.model_calibrations.id;


--
-- Name: model_condition_curves; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.model_condition_curves (
    id bigint NOT NULL,
    embedder_name text NOT NULL,
    embedder_version text NOT NULL,
    embedder_sha256 text NOT NULL,
    embedding_dim integer,
    detector_sha256 text NOT NULL,
    model jsonb NOT NULL,
    calibration_id bigint,
    manifest text NOT NULL,
    seed integer NOT NULL,
    frame_width integer NOT NULL,
    frame_height integer NOT NULL,
    target_fpir double precision NOT NULL,
    operating_threshold double precision NOT NULL,
    threshold_source text NOT NULL,
    group_by text NOT NULL,
    bootstrap text NOT NULL,
    points jsonb NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT model_condition_curves_embedding_dim_check CHECK ((embedding_dim > 0)),
    CONSTRAINT model_condition_curves_frame_height_check CHECK ((frame_height > 0)),
    CONSTRAINT model_condition_curves_frame_width_check CHECK ((frame_width > 0)),
    CONSTRAINT model_condition_curves_points_check CHECK (((jsonb_typeof(points) = 'array'::text) AND (jsonb_array_length(points) > 0))),
    CONSTRAINT model_condition_curves_target_fpir_check CHECK (((target_fpir > (0)::double precision) AND (target_fpir <= (1)::double precision)))
);


ALTER TABLE public.model_condition_curves OWNER TO lfr_owner;

--
-- Name: model_condition_curves_id_seq; Type: SEQUENCE; Schema: public; Owner: lfr_owner
--

CREATE SEQUENCE public.model_condition_curves_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.model_condition_curves_id_seq OWNER TO lfr_owner;

--
-- Name: model_condition_curves_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: lfr_owner
--

ALTER SEQUENCE public.model_condition_curves_id_seq OWNED BY public.model_condition_curves.id;


--
-- Name: policy_packs; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.policy_packs (
    name text NOT NULL,
    version integer NOT NULL,
    content jsonb NOT NULL,
    content_sha256 text NOT NULL,
    loaded_by text NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT policy_packs_check CHECK ((((content ->> 'name'::text) = name) AND (((content ->> 'version'::text))::integer = version))),
    CONSTRAINT policy_packs_content_sha256_check CHECK ((content_sha256 ~ '^[0-9a-f]{64}$'::text)),
    CONSTRAINT policy_packs_name_check CHECK ((name ~ '^[a-z0-9][a-z0-9_-]*$'::text)),
    CONSTRAINT policy_packs_version_check CHECK ((version > 0))
);


ALTER TABLE public.policy_packs OWNER TO lfr_owner;

--
-- Name: revoked_tokens; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.revoked_tokens (
    jti text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT revoked_tokens_jti_check CHECK (((length(jti) >= 1) AND (length(jti) <= 255)))
);


ALTER TABLE public.revoked_tokens OWNER TO lfr_owner;

--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    sha256 text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


ALTER TABLE public.schema_migrations OWNER TO lfr_owner;

--
-- Name: staging_claims; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.staging_claims (
    folder text NOT NULL,
    deployment_id uuid NOT NULL,
    claimed_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT staging_claims_folder_check CHECK ((folder ~~ 'staging/%/'::text))
);


ALTER TABLE public.staging_claims OWNER TO lfr_owner;

--
-- Name: threshold_decisions; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.threshold_decisions (
    id bigint NOT NULL,
    deployment_id uuid NOT NULL,
    old_threshold real,
    new_threshold real NOT NULL,
    calibration_id bigint NOT NULL,
    embedder_sha256 text NOT NULL,
    floor double precision NOT NULL,
    preview jsonb NOT NULL,
    reason text NOT NULL,
    decided_by text NOT NULL,
    decided_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT threshold_decisions_new_threshold_check CHECK (((new_threshold > (0)::double precision) AND (new_threshold < (1)::double precision))),
    CONSTRAINT threshold_decisions_old_threshold_check CHECK (((old_threshold > (0)::double precision) AND (old_threshold < (1)::double precision))),
    CONSTRAINT threshold_decisions_preview_check CHECK ((jsonb_typeof(preview) = 'object'::text)),
    CONSTRAINT threshold_decisions_reason_check CHECK ((btrim(reason) <> ''::text))
);


ALTER TABLE public.threshold_decisions OWNER TO lfr_owner;

--
-- Name: threshold_decisions_id_seq; Type: SEQUENCE; Schema: public; Owner: lfr_owner
--

CREATE SEQUENCE public.threshold_decisions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.threshold_decisions_id_seq OWNER TO lfr_owner;

--
-- Name: threshold_decisions_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: lfr_owner
--

ALTER SEQUENCE public.threshold_decisions_id_seq OWNED BY public.threshold_decisions.id;


--
-- Name: use_deletion_receipts; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.use_deletion_receipts (
    deployment_id uuid NOT NULL,
    reason text NOT NULL,
    deleted jsonb NOT NULL,
    deleted_by text NOT NULL,
    deleted_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT use_deletion_receipts_reason_check CHECK ((btrim(reason) <> ''::text))
);


ALTER TABLE public.use_deletion_receipts OWNER TO lfr_owner;

--
-- Name: watchlist_embeddings; Type: TABLE; Schema: public; Owner: lfr_owner
--

CREATE TABLE public.watchlist_embeddings (
    entry_id bigint NOT NULL,
    version_id uuid NOT NULL,
    embedding_dim integer NOT NULL,
    embedding public.vector NOT NULL,
    CONSTRAINT watchlist_embeddings_check CHECK ((public.vector_dims(embedding) = embedding_dim))
);


ALTER TABLE public.watchlist_embeddings OWNER TO lfr_owner;

--
-- Name: watchlist_entries_id_seq; Type: SEQUENCE; Schema: public; Owner: lfr_owner
--

CREATE SEQUENCE public.watchlist_entries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER SEQUENCE public.watchlist_entries_id_seq OWNER TO lfr_owner;

--
-- Name: watchlist_entries_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: lfr_owner
--

ALTER SEQUENCE public.watchlist_entries_id_seq OWNED BY public.watchlist_entries.id;


--
-- Name: deployment_authorisations id; Type: DEFAULT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_authorisations ALTER COLUMN id SET DEFAULT nextval('public.deployment_authorisations_id_seq'::regclass);


--
-- Name: deployment_cameras id; Type: DEFAULT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_cameras ALTER COLUMN id SET DEFAULT nextval('public.deployment_cameras_id_seq'::regclass);


--
-- Name: model_calibrations id; Type: DEFAULT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.model_calibrations ALTER COLUMN id SET DEFAULT nextval('public.model_calibrations_id_seq'::regclass);


--
-- Name: model_condition_curves id; Type: DEFAULT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.model_condition_curves ALTER COLUMN id SET DEFAULT nextval('public.model_condition_curves_id_seq'::regclass);


--
-- Name: threshold_decisions id; Type: DEFAULT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.threshold_decisions ALTER COLUMN id SET DEFAULT nextval('public.threshold_decisions_id_seq'::regclass);


--
-- Name: watchlist_entries id; Type: DEFAULT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_entries ALTER COLUMN id SET DEFAULT nextval('public.watchlist_entries_id_seq'::regclass);


--
-- Name: audit_log audit_log_pkey; Type: CONSTRAINT; Schema: audit; Owner: lfr_audit
--

ALTER TABLE ONLY audit.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (seq);


--
-- Name: audit_log audit_log_row_hash_key; Type: CONSTRAINT; Schema: audit; Owner: lfr_audit
--

ALTER TABLE ONLY audit.audit_log
    ADD CONSTRAINT audit_log_row_hash_key UNIQUE (row_hash);


--
-- Name: alert_reviews alert_reviews_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.alert_reviews
    ADD CONSTRAINT alert_reviews_pkey PRIMARY KEY (alert_id);


--
-- Name: alerts alerts_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (key_sha256);


--
-- Name: deployment_authorisations deployment_authorisations_decision_kind; Type: CHECK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE public.deployment_authorisations
    ADD CONSTRAINT deployment_authorisations_decision_kind CHECK (((kind = 'urgent_start'::text) OR (authority_kind IS NOT NULL))) NOT VALID;


--
-- Name: deployment_authorisations deployment_authorisations_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_authorisations
    ADD CONSTRAINT deployment_authorisations_pkey PRIMARY KEY (id);


--
-- Name: deployment_cameras deployment_cameras_deployment_id_name_key; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_cameras
    ADD CONSTRAINT deployment_cameras_deployment_id_name_key UNIQUE (deployment_id, name);


--
-- Name: deployment_cameras deployment_cameras_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_cameras
    ADD CONSTRAINT deployment_cameras_pkey PRIMARY KEY (id);


--
-- Name: deployment_counters deployment_counters_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_counters
    ADD CONSTRAINT deployment_counters_pkey PRIMARY KEY (deployment_id, camera_id);


--
-- Name: deployment_staff deployment_staff_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_staff
    ADD CONSTRAINT deployment_staff_pkey PRIMARY KEY (deployment_id, person, role);


--
-- Name: deployments deployments_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_pkey PRIMARY KEY (id);


--
-- Name: held_alert_crops held_alert_crops_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.held_alert_crops
    ADD CONSTRAINT held_alert_crops_pkey PRIMARY KEY (alert_id);


--
-- Name: model_calibrations model_calibrations_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.model_calibrations
    ADD CONSTRAINT model_calibrations_pkey PRIMARY KEY (id);


--
-- Name: model_condition_curves model_condition_curves_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.model_condition_curves
    ADD CONSTRAINT model_condition_curves_pkey PRIMARY KEY (id);


--
-- Name: policy_packs policy_packs_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.policy_packs
    ADD CONSTRAINT policy_packs_pkey PRIMARY KEY (name, version);


--
-- Name: revoked_tokens revoked_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.revoked_tokens
    ADD CONSTRAINT revoked_tokens_pkey PRIMARY KEY (jti);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: staging_claims staging_claims_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.staging_claims
    ADD CONSTRAINT staging_claims_pkey PRIMARY KEY (folder);


--
-- Name: state_transitions state_transitions_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.state_transitions
    ADD CONSTRAINT state_transitions_pkey PRIMARY KEY (object_type, from_state, to_state);


--
-- Name: threshold_decisions threshold_decisions_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.threshold_decisions
    ADD CONSTRAINT threshold_decisions_pkey PRIMARY KEY (id);


--
-- Name: use_deletion_receipts use_deletion_receipts_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.use_deletion_receipts
    ADD CONSTRAINT use_deletion_receipts_pkey PRIMARY KEY (deployment_id);


--
-- Name: watchlist_embeddings watchlist_embeddings_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_embeddings
    ADD CONSTRAINT watchlist_embeddings_pkey PRIMARY KEY (entry_id);


--
-- Name: watchlist_entries watchlist_entries_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_entries
    ADD CONSTRAINT watchlist_entries_pkey PRIMARY KEY (id);


--
-- Name: watchlist_entries watchlist_entries_subject_image; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_entries
    ADD CONSTRAINT watchlist_entries_subject_image UNIQUE (version_id, subject_ref, image_index);


--
-- Name: watchlist_versions watchlist_versions_deployment_id_version_key; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_versions
    ADD CONSTRAINT watchlist_versions_deployment_id_version_key UNIQUE (deployment_id, version);


--
-- Name: watchlist_versions watchlist_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_versions
    ADD CONSTRAINT watchlist_versions_pkey PRIMARY KEY (id);


--
-- Name: audit_log_object; Type: INDEX; Schema: audit; Owner: lfr_audit
--

CREATE INDEX audit_log_object ON audit.audit_log USING btree (object_type, object_id);


--
-- Name: alert_reviews_deployment; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX alert_reviews_deployment ON public.alert_reviews USING btree (deployment_id);


--
-- Name: alerts_deployment; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX alerts_deployment ON public.alerts USING btree (deployment_id, raised_at);


--
-- Name: deployment_authorisations_decision; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE UNIQUE INDEX deployment_authorisations_decision ON public.deployment_authorisations USING btree (deployment_id) WHERE (kind = ANY (ARRAY['granted'::text, 'refused'::text]));


--
-- Name: deployment_authorisations_urgent; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE UNIQUE INDEX deployment_authorisations_urgent ON public.deployment_authorisations USING btree (deployment_id) WHERE (kind = 'urgent_start'::text);


--
-- Name: held_alert_crops_held_at; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX held_alert_crops_held_at ON public.held_alert_crops USING btree (held_at);


--
-- Name: model_calibrations_embedder; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX model_calibrations_embedder ON public.model_calibrations USING btree (embedder_sha256, recorded_at DESC);


--
-- Name: model_condition_curves_embedder; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX model_condition_curves_embedder ON public.model_condition_curves USING btree (embedder_sha256, recorded_at DESC);


--
-- Name: revoked_tokens_expires_at; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX revoked_tokens_expires_at ON public.revoked_tokens USING btree (expires_at);


--
-- Name: threshold_decisions_deployment; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX threshold_decisions_deployment ON public.threshold_decisions USING btree (deployment_id, decided_at DESC);


--
-- Name: watchlist_embeddings_version; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE INDEX watchlist_embeddings_version ON public.watchlist_embeddings USING btree (version_id);


--
-- Name: watchlist_one_active; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE UNIQUE INDEX watchlist_one_active ON public.watchlist_versions USING btree (deployment_id) WHERE (state = 'active'::text);


--
-- Name: watchlist_versions_build_key; Type: INDEX; Schema: public; Owner: lfr_owner
--

CREATE UNIQUE INDEX watchlist_versions_build_key ON public.watchlist_versions USING btree (deployment_id, build_key) WHERE (build_key IS NOT NULL);


--
-- Name: audit_log audit_log_no_truncate; Type: TRIGGER; Schema: audit; Owner: lfr_audit
--

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit.audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit.audit_log_refuse_change();


--
-- Name: audit_log audit_log_no_update; Type: TRIGGER; Schema: audit; Owner: lfr_audit
--

CREATE TRIGGER audit_log_no_update BEFORE DELETE OR UPDATE ON audit.audit_log FOR EACH ROW EXECUTE FUNCTION audit.audit_log_refuse_change();


--
-- Name: deployment_authorisations lfr_after; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_after AFTER INSERT ON public.deployment_authorisations FOR EACH ROW EXECUTE FUNCTION public.lfr_after_authorisation();


--
-- Name: alert_reviews lfr_audit; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit AFTER INSERT OR UPDATE ON public.alert_reviews FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_alert_review();


--
-- Name: alerts lfr_audit; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit AFTER UPDATE ON public.alerts FOR EACH ROW WHEN (((((old.status IS DISTINCT FROM new.status) OR (old.engagement IS DISTINCT FROM new.engagement)) OR (old.legal_hold IS DISTINCT FROM new.legal_hold)) OR (old.second_status IS DISTINCT FROM new.second_status))) EXECUTE FUNCTION public.lfr_audit_alert_change();


--
-- Name: deployment_cameras lfr_audit; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit AFTER INSERT ON public.deployment_cameras FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_camera_registered();


--
-- Name: deployment_staff lfr_audit; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit AFTER INSERT OR DELETE ON public.deployment_staff FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_staff_change();


--
-- Name: deployments lfr_audit; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit AFTER UPDATE ON public.deployments FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION public.lfr_audit_deployment_change();


--
-- Name: policy_packs lfr_audit; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit AFTER INSERT ON public.policy_packs FOR EACH ROW EXECUTE FUNCTION public.lfr_audit_policy_pack();


--
-- Name: watchlist_versions lfr_audit; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit AFTER UPDATE ON public.watchlist_versions FOR EACH ROW WHEN ((old.state IS DISTINCT FROM new.state)) EXECUTE FUNCTION public.lfr_audit_version_change();


--
-- Name: watchlist_versions lfr_audit_gate; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit_gate AFTER UPDATE ON public.watchlist_versions FOR EACH ROW WHEN (((((old.gate_face_px IS DISTINCT FROM new.gate_face_px) OR (old.gate_decided_by IS DISTINCT FROM new.gate_decided_by)) OR (old.gate_reason IS DISTINCT FROM new.gate_reason)) OR (old.gate_decided_at IS DISTINCT FROM new.gate_decided_at))) EXECUTE FUNCTION public.lfr_audit_gate_change();


--
-- Name: deployments lfr_audit_threshold; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_audit_threshold AFTER UPDATE ON public.deployments FOR EACH ROW WHEN ((old.threshold IS DISTINCT FROM new.threshold)) EXECUTE FUNCTION public.lfr_audit_threshold_change();


--
-- Name: alert_reviews lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.alert_reviews FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_alert_reviews();


--
-- Name: alerts lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.alerts FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_alerts();


--
-- Name: api_keys lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.api_keys FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_platform_table('manage camera keys', 'admin', 'system');


--
-- Name: deployment_authorisations lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.deployment_authorisations FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_authorisations();


--
-- Name: deployment_cameras lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.deployment_cameras FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_deployment_cameras();


--
-- Name: deployment_counters lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.deployment_counters FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_counters();


--
-- Name: deployment_staff lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.deployment_staff FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_staff();


--
-- Name: deployments lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.deployments FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_deployments();


--
-- Name: held_alert_crops lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.held_alert_crops FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_held_alert_crops();


--
-- Name: model_calibrations lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.model_calibrations FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_platform_table('record a model calibration', 'admin', 'system');


--
-- Name: model_condition_curves lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.model_condition_curves FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_platform_table('record a model condition curve', 'admin', 'system');


--
-- Name: policy_packs lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.policy_packs FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_policy_packs();


--
-- Name: staging_claims lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.staging_claims FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_platform_table('claim a staging folder', 'planner', 'admin', 'system');


--
-- Name: threshold_decisions lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.threshold_decisions FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_threshold_decisions();


--
-- Name: use_deletion_receipts lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE DELETE OR UPDATE ON public.use_deletion_receipts FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_platform_table('change a deletion receipt', 'nobody');


--
-- Name: watchlist_embeddings lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.watchlist_embeddings FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_watchlist_content();


--
-- Name: watchlist_entries lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.watchlist_entries FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_watchlist_content();


--
-- Name: watchlist_versions lfr_guard; Type: TRIGGER; Schema: public; Owner: lfr_owner
--

CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.watchlist_versions FOR EACH ROW WHEN ((NOT public.lfr_superuser())) EXECUTE FUNCTION public.lfr_guard_watchlist_versions();


--
-- Name: alert_reviews alert_reviews_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.alert_reviews
    ADD CONSTRAINT alert_reviews_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: alerts alerts_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: alerts alerts_version_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.alerts
    ADD CONSTRAINT alerts_version_id_fkey FOREIGN KEY (version_id) REFERENCES public.watchlist_versions(id) ON DELETE RESTRICT;


--
-- Name: api_keys api_keys_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE CASCADE;


--
-- Name: deployment_authorisations deployment_authorisations_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_authorisations
    ADD CONSTRAINT deployment_authorisations_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: deployment_cameras deployment_cameras_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_cameras
    ADD CONSTRAINT deployment_cameras_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: deployment_counters deployment_counters_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_counters
    ADD CONSTRAINT deployment_counters_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: deployment_staff deployment_staff_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployment_staff
    ADD CONSTRAINT deployment_staff_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: deployments deployments_policy_pack; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_policy_pack FOREIGN KEY (policy_name, policy_version) REFERENCES public.policy_packs(name, version) ON DELETE RESTRICT;


--
-- Name: deployments deployments_threshold_decision_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_threshold_decision_id_fkey FOREIGN KEY (threshold_decision_id) REFERENCES public.threshold_decisions(id);


--
-- Name: held_alert_crops held_alert_crops_alert_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.held_alert_crops
    ADD CONSTRAINT held_alert_crops_alert_id_fkey FOREIGN KEY (alert_id) REFERENCES public.alerts(id) ON DELETE CASCADE;


--
-- Name: model_condition_curves model_condition_curves_calibration_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.model_condition_curves
    ADD CONSTRAINT model_condition_curves_calibration_id_fkey FOREIGN KEY (calibration_id) REFERENCES public.model_calibrations(id);


--
-- Name: staging_claims staging_claims_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.staging_claims
    ADD CONSTRAINT staging_claims_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id);


--
-- Name: threshold_decisions threshold_decisions_calibration_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.threshold_decisions
    ADD CONSTRAINT threshold_decisions_calibration_id_fkey FOREIGN KEY (calibration_id) REFERENCES public.model_calibrations(id) ON DELETE RESTRICT;


--
-- Name: threshold_decisions threshold_decisions_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.threshold_decisions
    ADD CONSTRAINT threshold_decisions_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: use_deletion_receipts use_deletion_receipts_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.use_deletion_receipts
    ADD CONSTRAINT use_deletion_receipts_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: watchlist_embeddings watchlist_embeddings_entry_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_embeddings
    ADD CONSTRAINT watchlist_embeddings_entry_id_fkey FOREIGN KEY (entry_id) REFERENCES public.watchlist_entries(id) ON DELETE CASCADE;


--
-- Name: watchlist_embeddings watchlist_embeddings_version_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_embeddings
    ADD CONSTRAINT watchlist_embeddings_version_id_fkey FOREIGN KEY (version_id) REFERENCES public.watchlist_versions(id) ON DELETE CASCADE;


--
-- Name: watchlist_entries watchlist_entries_version_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_entries
    ADD CONSTRAINT watchlist_entries_version_id_fkey FOREIGN KEY (version_id) REFERENCES public.watchlist_versions(id) ON DELETE CASCADE;


--
-- Name: watchlist_versions watchlist_versions_deployment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_versions
    ADD CONSTRAINT watchlist_versions_deployment_id_fkey FOREIGN KEY (deployment_id) REFERENCES public.deployments(id) ON DELETE RESTRICT;


--
-- Name: watchlist_versions watchlist_versions_evidence_calibration_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: lfr_owner
--

ALTER TABLE ONLY public.watchlist_versions
    ADD CONSTRAINT watchlist_versions_evidence_calibration_id_fkey FOREIGN KEY (evidence_calibration_id) REFERENCES public.model_calibrations(id);


--
-- Name: alert_reviews; Type: ROW SECURITY; Schema: public; Owner: lfr_owner
--

ALTER TABLE public.alert_reviews ENABLE ROW LEVEL SECURITY;

--
-- Name: alert_reviews alert_reviews_assign; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY alert_reviews_assign ON public.alert_reviews FOR INSERT TO lfr_admin WITH CHECK (true);


--
-- Name: alert_reviews alert_reviews_oversight; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY alert_reviews_oversight ON public.alert_reviews FOR SELECT TO lfr_system, lfr_admin, lfr_auditor USING (true);


--
-- Name: alert_reviews alert_reviews_reviewer; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY alert_reviews_reviewer ON public.alert_reviews TO lfr_operator, lfr_admin, lfr_auditor USING ((reviewer = public.lfr_actor())) WITH CHECK ((reviewer = public.lfr_actor()));


--
-- Name: alerts; Type: ROW SECURITY; Schema: public; Owner: lfr_owner
--

ALTER TABLE public.alerts ENABLE ROW LEVEL SECURITY;

--
-- Name: alerts alerts_admin; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY alerts_admin ON public.alerts FOR UPDATE TO lfr_admin USING (true) WITH CHECK (true);


--
-- Name: alerts alerts_assigned_operator; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY alerts_assigned_operator ON public.alerts TO lfr_operator USING (public.lfr_assigned(deployment_id, 'operator'::text)) WITH CHECK (public.lfr_assigned(deployment_id, 'operator'::text));


--
-- Name: alerts alerts_oversight; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY alerts_oversight ON public.alerts FOR SELECT TO lfr_admin, lfr_auditor USING (true);


--
-- Name: alerts alerts_service; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY alerts_service ON public.alerts TO lfr_system USING (true) WITH CHECK (true);


--
-- Name: deployment_cameras; Type: ROW SECURITY; Schema: public; Owner: lfr_owner
--

ALTER TABLE public.deployment_cameras ENABLE ROW LEVEL SECURITY;

--
-- Name: deployment_cameras deployment_cameras_read; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY deployment_cameras_read ON public.deployment_cameras FOR SELECT TO lfr_person, lfr_system USING (true);


--
-- Name: deployment_cameras deployment_cameras_register; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY deployment_cameras_register ON public.deployment_cameras FOR INSERT TO lfr_system, lfr_planner, lfr_admin WITH CHECK (((registered_by = public.lfr_actor()) OR public.lfr_holds(VARIADIC ARRAY['system'::text])));


--
-- Name: held_alert_crops; Type: ROW SECURITY; Schema: public; Owner: lfr_owner
--

ALTER TABLE public.held_alert_crops ENABLE ROW LEVEL SECURITY;

--
-- Name: held_alert_crops held_alert_crops_service; Type: POLICY; Schema: public; Owner: lfr_owner
--

CREATE POLICY held_alert_crops_service ON public.held_alert_crops TO lfr_system USING (true) WITH CHECK (true);


--
-- Name: SCHEMA audit; Type: ACL; Schema: -; Owner: lfr_audit
--

GRANT USAGE ON SCHEMA audit TO lfr;
GRANT USAGE ON SCHEMA audit TO lfr_person;
GRANT USAGE ON SCHEMA audit TO lfr_owner;


--
-- Name: SCHEMA public; Type: ACL; Schema: -; Owner: lfr_owner
--

GRANT USAGE ON SCHEMA public TO lfr;
GRANT USAGE ON SCHEMA public TO lfr_person;


--
-- Name: FUNCTION append(p_occurred_at text, p_actor text, p_role text, p_action text, p_object_type text, p_object_id text, p_details jsonb, p_details_sha256 text); Type: ACL; Schema: audit; Owner: lfr_audit
--

REVOKE ALL ON FUNCTION audit.append(p_occurred_at text, p_actor text, p_role text, p_action text, p_object_type text, p_object_id text, p_details jsonb, p_details_sha256 text) FROM PUBLIC;
GRANT ALL ON FUNCTION audit.append(p_occurred_at text, p_actor text, p_role text, p_action text, p_object_type text, p_object_id text, p_details jsonb, p_details_sha256 text) TO lfr;
GRANT ALL ON FUNCTION audit.append(p_occurred_at text, p_actor text, p_role text, p_action text, p_object_type text, p_object_id text, p_details jsonb, p_details_sha256 text) TO lfr_person;
GRANT ALL ON FUNCTION audit.append(p_occurred_at text, p_actor text, p_role text, p_action text, p_object_type text, p_object_id text, p_details jsonb, p_details_sha256 text) TO lfr_owner;


--
-- Name: FUNCTION lfr_add_person(p_name text, p_roles text[], p_scram_verifier text); Type: ACL; Schema: public; Owner: lfr_owner
--

REVOKE ALL ON FUNCTION public.lfr_add_person(p_name text, p_roles text[], p_scram_verifier text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.lfr_add_person(p_name text, p_roles text[], p_scram_verifier text) TO lfr_person;


--
-- Name: FUNCTION lfr_audit_person_change(p_action text, p_name text, p_details jsonb); Type: ACL; Schema: public; Owner: lfr_owner
--

REVOKE ALL ON FUNCTION public.lfr_audit_person_change(p_action text, p_name text, p_details jsonb) FROM PUBLIC;


--
-- Name: TABLE deployments; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.deployments TO lfr;
GRANT SELECT ON TABLE public.deployments TO lfr_person;
GRANT INSERT,UPDATE ON TABLE public.deployments TO lfr_planner;
GRANT INSERT,UPDATE ON TABLE public.deployments TO lfr_admin;
GRANT UPDATE ON TABLE public.deployments TO lfr_operator;


--
-- Name: COLUMN deployments.threshold; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT UPDATE(threshold) ON TABLE public.deployments TO lfr_authoriser;


--
-- Name: COLUMN deployments.threshold_decision_id; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT UPDATE(threshold_decision_id) ON TABLE public.deployments TO lfr_authoriser;


--
-- Name: TABLE watchlist_entries; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.watchlist_entries TO lfr;
GRANT SELECT ON TABLE public.watchlist_entries TO lfr_person;
GRANT INSERT,UPDATE ON TABLE public.watchlist_entries TO lfr_planner;
GRANT INSERT,UPDATE ON TABLE public.watchlist_entries TO lfr_admin;


--
-- Name: TABLE watchlist_versions; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.watchlist_versions TO lfr;
GRANT SELECT ON TABLE public.watchlist_versions TO lfr_person;
GRANT INSERT,UPDATE ON TABLE public.watchlist_versions TO lfr_planner;
GRANT INSERT,UPDATE ON TABLE public.watchlist_versions TO lfr_admin;
GRANT UPDATE ON TABLE public.watchlist_versions TO lfr_authoriser;
GRANT UPDATE ON TABLE public.watchlist_versions TO lfr_operator;


--
-- Name: FUNCTION lfr_consult_watchlist(p_version uuid, p_what text, p_reason text, p_details jsonb); Type: ACL; Schema: public; Owner: lfr_owner
--

REVOKE ALL ON FUNCTION public.lfr_consult_watchlist(p_version uuid, p_what text, p_reason text, p_details jsonb) FROM PUBLIC;


--
-- Name: FUNCTION lfr_disable_person(p_name text); Type: ACL; Schema: public; Owner: lfr_owner
--

REVOKE ALL ON FUNCTION public.lfr_disable_person(p_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.lfr_disable_person(p_name text) TO lfr_person;


--
-- Name: FUNCTION lfr_discard_use(p_deployment uuid, p_reason text); Type: ACL; Schema: public; Owner: lfr_owner
--

REVOKE ALL ON FUNCTION public.lfr_discard_use(p_deployment uuid, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.lfr_discard_use(p_deployment uuid, p_reason text) TO lfr_authoriser;
GRANT ALL ON FUNCTION public.lfr_discard_use(p_deployment uuid, p_reason text) TO lfr_system;


--
-- Name: FUNCTION lfr_probe_watchlist(p_version uuid, p_probes text[], p_k integer, p_reason text); Type: ACL; Schema: public; Owner: lfr_owner
--

REVOKE ALL ON FUNCTION public.lfr_probe_watchlist(p_version uuid, p_probes text[], p_k integer, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.lfr_probe_watchlist(p_version uuid, p_probes text[], p_k integer, p_reason text) TO lfr_person;


--
-- Name: TABLE state_transitions; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT ON TABLE public.state_transitions TO lfr;
GRANT SELECT ON TABLE public.state_transitions TO lfr_person;


--
-- Name: FUNCTION lfr_watchlist_faces(p_version uuid, p_page integer, p_per_page integer, p_reason text); Type: ACL; Schema: public; Owner: lfr_owner
--

REVOKE ALL ON FUNCTION public.lfr_watchlist_faces(p_version uuid, p_page integer, p_per_page integer, p_reason text) FROM PUBLIC;
GRANT ALL ON FUNCTION public.lfr_watchlist_faces(p_version uuid, p_page integer, p_per_page integer, p_reason text) TO lfr_person;


--
-- Name: TABLE audit_log; Type: ACL; Schema: audit; Owner: lfr_audit
--

GRANT SELECT ON TABLE audit.audit_log TO lfr;
GRANT SELECT ON TABLE audit.audit_log TO lfr_person;


--
-- Name: TABLE alert_reviews; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.alert_reviews TO lfr;
GRANT SELECT ON TABLE public.alert_reviews TO lfr_person;
GRANT SELECT ON TABLE public.alert_reviews TO lfr_system;
GRANT INSERT ON TABLE public.alert_reviews TO lfr_admin;


--
-- Name: COLUMN alert_reviews.finding; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT UPDATE(finding) ON TABLE public.alert_reviews TO lfr_operator;
GRANT UPDATE(finding) ON TABLE public.alert_reviews TO lfr_admin;
GRANT UPDATE(finding) ON TABLE public.alert_reviews TO lfr_auditor;


--
-- Name: COLUMN alert_reviews.reviewed_at; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT UPDATE(reviewed_at) ON TABLE public.alert_reviews TO lfr_operator;
GRANT UPDATE(reviewed_at) ON TABLE public.alert_reviews TO lfr_admin;
GRANT UPDATE(reviewed_at) ON TABLE public.alert_reviews TO lfr_auditor;


--
-- Name: TABLE alerts; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.alerts TO lfr;
GRANT SELECT ON TABLE public.alerts TO lfr_person;
GRANT UPDATE ON TABLE public.alerts TO lfr_operator;
GRANT UPDATE ON TABLE public.alerts TO lfr_admin;


--
-- Name: TABLE api_keys; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.api_keys TO lfr;
GRANT SELECT,INSERT,UPDATE ON TABLE public.api_keys TO lfr_admin;


--
-- Name: TABLE deployment_authorisations; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.deployment_authorisations TO lfr;
GRANT SELECT ON TABLE public.deployment_authorisations TO lfr_person;
GRANT SELECT ON TABLE public.deployment_authorisations TO lfr_system;
GRANT INSERT ON TABLE public.deployment_authorisations TO lfr_authoriser;


--
-- Name: SEQUENCE deployment_authorisations_id_seq; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,USAGE ON SEQUENCE public.deployment_authorisations_id_seq TO lfr;
GRANT SELECT,USAGE ON SEQUENCE public.deployment_authorisations_id_seq TO lfr_person;


--
-- Name: TABLE deployment_cameras; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.deployment_cameras TO lfr;
GRANT SELECT ON TABLE public.deployment_cameras TO lfr_person;
GRANT INSERT ON TABLE public.deployment_cameras TO lfr_planner;
GRANT INSERT ON TABLE public.deployment_cameras TO lfr_admin;
GRANT INSERT ON TABLE public.deployment_cameras TO lfr_system;


--
-- Name: SEQUENCE deployment_cameras_id_seq; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,USAGE ON SEQUENCE public.deployment_cameras_id_seq TO lfr;
GRANT SELECT,USAGE ON SEQUENCE public.deployment_cameras_id_seq TO lfr_person;


--
-- Name: TABLE deployment_counters; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.deployment_counters TO lfr;
GRANT SELECT ON TABLE public.deployment_counters TO lfr_person;


--
-- Name: TABLE deployment_staff; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.deployment_staff TO lfr;
GRANT SELECT ON TABLE public.deployment_staff TO lfr_person;
GRANT INSERT,DELETE ON TABLE public.deployment_staff TO lfr_planner;
GRANT INSERT,DELETE ON TABLE public.deployment_staff TO lfr_admin;


--
-- Name: TABLE held_alert_crops; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.held_alert_crops TO lfr;


--
-- Name: TABLE model_calibrations; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.model_calibrations TO lfr;
GRANT SELECT ON TABLE public.model_calibrations TO lfr_person;
GRANT INSERT ON TABLE public.model_calibrations TO lfr_admin;


--
-- Name: SEQUENCE model_calibrations_id_seq; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,USAGE ON SEQUENCE public.model_calibrations_id_seq TO lfr;
GRANT SELECT,USAGE ON SEQUENCE public.model_calibrations_id_seq TO lfr_person;


--
-- Name: TABLE model_condition_curves; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.model_condition_curves TO lfr;
GRANT SELECT ON TABLE public.model_condition_curves TO lfr_person;
GRANT INSERT ON TABLE public.model_condition_curves TO lfr_admin;


--
-- Name: SEQUENCE model_condition_curves_id_seq; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,USAGE ON SEQUENCE public.model_condition_curves_id_seq TO lfr;
GRANT SELECT,USAGE ON SEQUENCE public.model_condition_curves_id_seq TO lfr_person;


--
-- Name: TABLE policy_packs; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.policy_packs TO lfr;
GRANT SELECT ON TABLE public.policy_packs TO lfr_person;
GRANT INSERT ON TABLE public.policy_packs TO lfr_admin;


--
-- Name: TABLE revoked_tokens; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.revoked_tokens TO lfr;


--
-- Name: TABLE schema_migrations; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT ON TABLE public.schema_migrations TO lfr;
GRANT SELECT ON TABLE public.schema_migrations TO lfr_person;


--
-- Name: TABLE staging_claims; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.staging_claims TO lfr;
GRANT SELECT ON TABLE public.staging_claims TO lfr_person;
GRANT INSERT ON TABLE public.staging_claims TO lfr_planner;
GRANT INSERT ON TABLE public.staging_claims TO lfr_admin;


--
-- Name: TABLE threshold_decisions; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.threshold_decisions TO lfr;
GRANT SELECT ON TABLE public.threshold_decisions TO lfr_person;
GRANT INSERT ON TABLE public.threshold_decisions TO lfr_authoriser;


--
-- Name: SEQUENCE threshold_decisions_id_seq; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,USAGE ON SEQUENCE public.threshold_decisions_id_seq TO lfr;
GRANT SELECT,USAGE ON SEQUENCE public.threshold_decisions_id_seq TO lfr_person;
GRANT USAGE ON SEQUENCE public.threshold_decisions_id_seq TO lfr_authoriser;


--
-- Name: TABLE use_deletion_receipts; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.use_deletion_receipts TO lfr;
GRANT SELECT ON TABLE public.use_deletion_receipts TO lfr_person;
GRANT SELECT ON TABLE public.use_deletion_receipts TO lfr_system;


--
-- Name: TABLE watchlist_embeddings; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,INSERT,DELETE,UPDATE ON TABLE public.watchlist_embeddings TO lfr;
GRANT INSERT ON TABLE public.watchlist_embeddings TO lfr_planner;
GRANT SELECT,INSERT,DELETE ON TABLE public.watchlist_embeddings TO lfr_admin;


--
-- Name: SEQUENCE watchlist_entries_id_seq; Type: ACL; Schema: public; Owner: lfr_owner
--

GRANT SELECT,USAGE ON SEQUENCE public.watchlist_entries_id_seq TO lfr;
GRANT SELECT,USAGE ON SEQUENCE public.watchlist_entries_id_seq TO lfr_person;


--
-- Name: DEFAULT PRIVILEGES FOR SEQUENCES; Type: DEFAULT ACL; Schema: public; Owner: lfr_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE lfr_owner IN SCHEMA public GRANT SELECT,USAGE ON SEQUENCES TO lfr;


--
-- Name: DEFAULT PRIVILEGES FOR TABLES; Type: DEFAULT ACL; Schema: public; Owner: lfr_owner
--

ALTER DEFAULT PRIVILEGES FOR ROLE lfr_owner IN SCHEMA public GRANT SELECT,INSERT,DELETE,UPDATE ON TABLES TO lfr;


--
-- PostgreSQL database dump complete
--
