"""The authoriser's face view and probe test (issue 27 item 6) by direct SQL: a person who is not an authoriser
assigned to the version's deployment gets nothing, cannot write a consultation of their own making, and cannot
read the templates the probe is searched against; an assigned authoriser's direct call is logged like the CLI's."""

from __future__ import annotations

import psycopg
import pytest

from tests.conftest import ADMIN, AUTHORISER, OPERATOR, PLANNER
from tests.security.conftest import a_deployment, a_version, direct, superuser

PROBE = "[" + ",".join(["0.1"] * 128) + "]"


@pytest.fixture()
def version(services) -> str:
    deployment = a_deployment(services, operators=(OPERATOR.name,))
    version_id = a_version(services, deployment, "draft")
    with superuser(services) as conn:
        conn.execute("INSERT INTO deployment_staff (deployment_id, person, role, assigned_by) "
                     "VALUES (%s, %s, 'authoriser', %s)", (deployment, AUTHORISER.name, PLANNER.name))
    return version_id


def _consultations(services, version_id: str) -> list[dict]:
    with superuser(services) as conn:
        return conn.execute("""SELECT actor, action, details FROM audit.audit_log WHERE object_id = %s
                               AND action LIKE 'consulted.%%' ORDER BY seq""", (version_id,)).fetchall()


@pytest.mark.parametrize("person", ["pam.both", PLANNER.name, OPERATOR.name, ADMIN.name])
def test_faces_and_probe_are_refused_to_anyone_but_an_assigned_authoriser(services, version, person):
    with direct(services, person) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="authoriser assigned"):
            conn.execute("SELECT * FROM lfr_watchlist_faces(%s, 1, 10, 'just looking')", (version,))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="authoriser assigned"):
            conn.execute("SELECT * FROM lfr_probe_watchlist(%s, ARRAY[%s], 5, 'just looking')", (version, PROBE))
    assert _consultations(services, version) == []


def test_nobody_writes_a_consultation_of_their_own_or_reads_the_templates(services, version):
    with direct(services, AUTHORISER.name) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT lfr_consult_watchlist(%s, 'watchlist_faces', 'made up', '{}')", (version,))
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT embedding FROM watchlist_embeddings LIMIT 1")
    assert _consultations(services, version) == []


def test_an_assigned_authoriser_by_direct_sql_is_logged_with_the_reason(services, version):
    with direct(services, AUTHORISER.name) as conn:
        with pytest.raises(psycopg.errors.InvalidParameterValue, match="reason"):
            conn.execute("SELECT * FROM lfr_probe_watchlist(%s, ARRAY[%s], 5, ' ')", (version, PROBE))
        conn.rollback()
        rows = conn.execute("SELECT * FROM lfr_probe_watchlist(%s, ARRAY[%s], 5, 'testing the draft')",
                            (version, PROBE)).fetchall()
        conn.commit()
    assert rows == []  # the forged version has no templates
    [row] = _consultations(services, version)
    assert (row["actor"], row["action"], row["details"]["reason"], row["details"]["faces"]) == (
        AUTHORISER.name, "consulted.watchlist_probe", "testing the draft", 1)
    assert "0.1" not in str(row["details"])  # the probe is not in the record


@pytest.mark.parametrize(("officer", "allowed"), [("pam.both", True), (PLANNER.name, False)])
def test_the_authorising_officer_sees_the_faces_only_while_holding_the_authoriser_role(services, officer, allowed):
    """The deployment's authorising officer, unassigned, is asked to approve (approval.respondents) and may see the
    faces; naming a planner as the officer gives them nothing (the role is checked, not only the name)."""
    deployment = a_deployment(services)
    version_id = a_version(services, deployment, "draft")
    with superuser(services) as conn:  # the officer is fixed at creation; set here as the administrator
        conn.execute("UPDATE deployments SET authorising_officer = %s WHERE id = %s", (officer, deployment))
    with direct(services, officer) as conn:
        if allowed:
            assert conn.execute("SELECT * FROM lfr_watchlist_faces(%s, 1, 10, 'the list I approve')",
                                (version_id,)).fetchall() == []  # the forged version has no entries
            conn.commit()
        else:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="or its authorising officer"):
                conn.execute("SELECT * FROM lfr_watchlist_faces(%s, 1, 10, 'the list I approve')", (version_id,))
    assert [r["actor"] for r in _consultations(services, version_id)] == ([officer] if allowed else [])
