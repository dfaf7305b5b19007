"""Issue 25 item 1: a person's TEMP table named pg_roles made every role theirs, because a function whose
search_path said only `pg_catalog` still looked in pg_temp first. Every function now pins
`pg_catalog, pg_temp`; nobody but the owners may create anything in the database; and even where an
administrator grants TEMP back, shadows of the catalog and of the platform's own tables and functions
change no decision."""

from __future__ import annotations

import psycopg
import pytest

from lfr_core.db.harden import SAFE_SEARCH_PATH, unsafe_functions
from tests.conftest import PEOPLE
from tests.security.conftest import a_deployment, a_version, direct, superuser

# What a shadow of each name says: every role is the person's, they are a superuser, every move is allowed,
# and they are assigned to everything.
SHADOWS = [
    # every role's name on the person's own oid, so that pg_has_role(me, <that oid>) says yes
    "CREATE TEMP TABLE pg_roles AS SELECT r.rolname, me.oid, true AS rolsuper, true AS rolcanlogin, "
    "true AS rolinherit FROM pg_catalog.pg_roles AS r, pg_catalog.pg_roles AS me WHERE me.rolname = current_user",
    "CREATE TEMP TABLE pg_auth_members AS SELECT r.oid AS roleid, me.oid AS member, true AS inherit_option, "
    "true AS set_option FROM pg_catalog.pg_roles AS r, pg_catalog.pg_roles AS me WHERE me.rolname = current_user",
    "CREATE TEMP TABLE pg_class (relname name, oid oid)",
    "CREATE TEMP TABLE state_transitions AS SELECT 'watchlist_version'::text AS object_type, f AS from_state, "
    "t AS to_state, '{planner,authoriser,operator,admin,auditor}'::text[] AS roles, NULL::text AS assigned, "
    "'{}'::text[] AS requires FROM unnest('{draft,approved,active,expired,purging,purged}'::text[]) AS f, "
    "unnest('{draft,approved,active,expired,purging,purged}'::text[]) AS t",
    "CREATE TEMP TABLE deployment_staff AS SELECT id AS deployment_id, current_user::text AS person, "
    "'operator'::text AS role FROM public.deployments",
    "CREATE TEMP TABLE deployments AS SELECT * FROM public.deployments",
    "UPDATE pg_temp.deployments SET window_start = now() - interval '1 day', window_end = now() + interval '1 day'",
    "CREATE TEMP TABLE watchlist_versions AS SELECT * FROM public.watchlist_versions",
    "CREATE FUNCTION pg_temp.lfr_holds(VARIADIC text[]) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
    "CREATE FUNCTION pg_temp.lfr_superuser() RETURNS boolean LANGUAGE sql AS 'SELECT true'",
    "CREATE FUNCTION pg_temp.lfr_actor() RETURNS text LANGUAGE sql AS 'SELECT ''ann.authoriser''::text'",
    "SET search_path = pg_temp, public, audit, pg_catalog",
]


def test_every_function_of_the_platform_pins_a_safe_search_path(services, db):
    assert unsafe_functions(db) == []
    # The check can fail: a function without the setting, or with an unsafe one, is named.
    with superuser(services) as admin:
        admin.execute("BEGIN")
        admin.execute("CREATE FUNCTION public.lfr_careless() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        admin.execute("CREATE FUNCTION public.lfr_loose() RETURNS int LANGUAGE sql "
                      "SET search_path = pg_catalog AS 'SELECT 1'")
        found = unsafe_functions(admin)
        admin.execute("ROLLBACK")
    assert {f["function"] for f in found} == {"lfr_careless()", "lfr_loose()"}
    assert all(SAFE_SEARCH_PATH not in (f["config"] or []) for f in found)


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_a_person_creates_nothing_in_the_database(services, name):
    for statement in ("CREATE TEMP TABLE pg_roles (rolname name)", "CREATE SCHEMA shadow",
                      "CREATE TABLE public.shadow (a int)", "CREATE FUNCTION public.lfr_holds(int) RETURNS boolean "
                                                            "LANGUAGE sql AS 'SELECT true'"):
        with direct(services, name) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


@pytest.fixture()
def temp_granted(services):
    """TEMP granted back to every person, as a careless administrator might: the functions must still hold."""
    names = sorted(PEOPLE)
    with superuser(services) as admin:
        for name in names:
            admin.execute(f'GRANT TEMPORARY ON DATABASE {services.db.name} TO "{name}"')
    yield names
    with superuser(services) as admin:
        for name in names:
            admin.execute(f'REVOKE TEMPORARY ON DATABASE {services.db.name} FROM "{name}"')


@pytest.mark.parametrize("name", sorted(PEOPLE))
def test_shadows_of_the_catalog_and_the_platform_change_no_decision(services, temp_granted, name):
    holds = set(PEOPLE[name])
    someone_else = "pam.both" if name == "ann.authoriser" else "ann.authoriser"
    mine = a_deployment(services)  # nobody is assigned to it
    draft = a_version(services, mine, "draft")
    other = a_deployment(services)
    active = a_version(services, other, "active")
    attacks = [
        # (statement, params, who may legitimately do it)
        ("SELECT public.lfr_add_person('mallory', ARRAY['admin'], 'SCRAM-SHA-256$4096:c2FsdA==$YQ==:Yg==')", None,
         {"admin"}),
        ("SELECT audit.append(now()::text, 'someone.else', 'admin', 'forged', 't', 'x', '{}'::jsonb, 'x')", None,
         set()),
        ("SELECT audit.append(now()::text, current_user, 'system', 'forged', 't', 'x', '{}'::jsonb, 'x')", None,
         set()),
        ("UPDATE public.watchlist_versions SET state = 'active' WHERE id = %s", (draft,), set()),
        ("UPDATE public.watchlist_versions SET state = 'approved', approved_by = %s, approved_at = now(), "
         "criteria_sha256 = 'c' WHERE id = %s", (someone_else, draft), set()),
        ("UPDATE public.watchlist_versions SET approved_by = current_user WHERE id = %s", (active,), set()),
        ("UPDATE public.watchlist_versions SET state = 'expired' WHERE id = %s", (active,), {"admin"}),
        ("UPDATE public.deployments SET window_end = window_end + interval '1 day' WHERE id = %s", (other,), set()),
        ("UPDATE public.deployments SET status = 'closed' WHERE id = %s", (other,), set()),
        ("INSERT INTO audit.audit_log SELECT * FROM audit.audit_log ORDER BY seq DESC LIMIT 1", None, set()),
        ("SET ROLE lfr_system", None, set()),
        ("SET ROLE lfr_owner", None, set()),
    ]
    with direct(services, name) as conn:
        for statement in SHADOWS:
            conn.execute(statement)
        conn.commit()
        # The shadows are in place, and the platform's own answers ignore them.
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()["rolsuper"]
        answers = conn.execute("SELECT public.lfr_superuser() AS su, public.lfr_holds('admin') AS admin, "
                               "public.lfr_actor() AS actor").fetchone()
        assert answers == {"su": False, "admin": "admin" in holds, "actor": name}
        for statement, params, allowed_to in attacks:
            if holds & allowed_to:
                continue
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement, params)
                pytest.fail(f"{name} could: {statement}")
    with superuser(services) as admin:
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'mallory'").fetchone() is None
        states = admin.execute("SELECT id::text, state FROM watchlist_versions WHERE id IN (%s, %s)",
                               (draft, active)).fetchall()
        assert {r["id"]: r["state"] for r in states} == {draft: "draft", active: "active"}
        assert admin.execute("SELECT count(*) AS n FROM audit.audit_log WHERE action = 'forged'").fetchone()["n"] == 0
