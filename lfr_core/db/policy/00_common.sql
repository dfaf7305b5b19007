-- Who may change what, checked where the data lives (issues 11 and 25). This folder holds one file per context,
-- applied by lfr_core/db/harden.py after every migration run, as lfr_owner, in the order of their names (a file
-- uses only what the files before it define); each is idempotent. This one: the functions every context's rules
-- share. The schema they give, whole, is lfr_core/db/schema.sql.
--
-- A person is a PostgreSQL login role in the group roles of what they do (lfr_planner, lfr_authoriser,
-- lfr_operator, lfr_admin, lfr_auditor; lfr_core/identity/people.py). The CLI connects with the person's own
-- credentials; the services (Ray Serve, Airflow) connect as the platform's login (group lfr_system) and run
-- each request as the authenticated person with SET LOCAL ROLE. So the same rules hold for the CLI, the
-- services and a direct SQL connection: the triggers of these files refuse what the acting person's roles do not
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

-- A row names the person who did it (built_by, approved_by, ...): nobody writes another's name there. `system_may`:
-- the platform's own login may name the person it acts for (a DAG run records its planner), where the row says so.
-- IS DISTINCT FROM: a name left NULL is not the actor's either.
CREATE OR REPLACE FUNCTION public.lfr_require_own_name(what text, named text, system_may boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF named IS DISTINCT FROM public.lfr_actor() AND NOT (system_may AND public.lfr_holds('system')) THEN
        PERFORM public.lfr_deny(pg_catalog.format('%s may not %s in the name of %s', public.lfr_actor(), what,
                                                  coalesce(named, 'no one')));
    END IF;
END $$;

-- Is the acting person assigned to this deployment in this role?
CREATE OR REPLACE FUNCTION public.lfr_assigned(p_deployment uuid, p_role text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM public.deployment_staff AS s
                   WHERE s.deployment_id = p_deployment AND s.person = public.lfr_actor() AND s.role = p_role)
$$;

-- Does the acting person answer for this deployment's watchlist: an authoriser assigned to it, or its authorising
-- officer holding the authoriser role (the people its approval asks: lfr_core/workflow/approval.py respondents)?
-- They alone approve its drafts and see their faces; another deployment's authoriser does neither.
CREATE OR REPLACE FUNCTION public.lfr_answers_for(p_deployment uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT public.lfr_holds('authoriser') AND (public.lfr_assigned(p_deployment, 'authoriser') OR EXISTS (
        SELECT 1 FROM public.deployments AS d
        WHERE d.id = p_deployment AND d.authorising_officer = public.lfr_actor()))
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

-- The roles in whose name a change of state is audited: the rule's, or 'system' where no rule allows the move
-- (only a superuser's repair gets past the guards without one).
CREATE OR REPLACE FUNCTION public.lfr_transition_roles(p_object text, p_from text, p_to text) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT t.roles FROM public.state_transitions AS t
                     WHERE t.object_type = p_object AND t.from_state = p_from AND t.to_state = p_to), '{system}')
$$;

CREATE OR REPLACE FUNCTION public.lfr_guard_platform_table() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    -- TG_ARGV: what the change is, then the roles that may make it.
    PERFORM public.lfr_require(TG_ARGV[0], VARIADIC TG_ARGV[1:]);
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

-- Table rights common to every person: the schema, its sequences, the schema's history and the lifecycles.
GRANT USAGE ON SCHEMA public TO lfr_person;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO lfr_person;
GRANT SELECT ON schema_migrations, state_transitions TO lfr_person;

-- Nobody but the owners creates anything here: no TEMP table to shadow a name with, no schema, no table.
DO $$
BEGIN
    EXECUTE pg_catalog.format('REVOKE TEMPORARY, CREATE ON DATABASE %I FROM PUBLIC', pg_catalog.current_database());
END $$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
