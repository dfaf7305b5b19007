-- People (lfr_core/identity/people.py): login roles in the platform's group roles, added and disabled by an
-- admin, each change audited.

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
