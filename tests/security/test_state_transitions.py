"""Issue 25 item 2: an operator's own login set a never-approved draft to active, and another deployment's
active list to expired, and no audit row recorded either. The lifecycles are now a table in the database
(state_transitions) that the guard triggers read, and each change writes its own audit row.

The expectations below are this test's own statement of the rules, not a copy of the table: for every
(person, from-state, to-state), direct SQL with the person's own login is refused unless they hold.
"""

from __future__ import annotations

import itertools

import psycopg
import pytest

from lfr_core.alerts import service as alerts
from lfr_core.audit import log as audit
from lfr_core.errors import Refused
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.watchlist import lifecycle
from tests.conftest import PEOPLE
from tests.security.conftest import a_deployment, a_version, direct, superuser

VERSION_STATES = ("draft", "approved", "active", "expired", "purging", "purged")
DEPLOYMENT_STATUSES = ("planned", "live", "closed", "cancelled", "lapsed")
OPERATOR_OR_ABOVE = {"operator", "admin", "system"}
# (from, to) -> roles that may make the move; operators only on deployments they are assigned to.
VERSION_MOVES = {
    ("draft", "approved"): {"authoriser"},
    ("draft", "purging"): {"admin", "system"},
    ("approved", "active"): OPERATOR_OR_ABOVE,
    ("approved", "expired"): OPERATOR_OR_ABOVE,
    ("approved", "purging"): {"admin", "system"},
    ("active", "expired"): OPERATOR_OR_ABOVE,
    ("expired", "purging"): {"admin", "system"},
    ("purging", "purged"): {"admin", "system"},
}
DEPLOYMENT_MOVES = {
    ("planned", "live"): OPERATOR_OR_ABOVE,
    ("live", "closed"): OPERATOR_OR_ABOVE,
    ("planned", "cancelled"): {"planner", "admin", "system"},
    ("live", "cancelled"): {"planner", "admin", "system"},
    ("planned", "lapsed"): {"admin", "system"},  # once the window has ended (below: its window is over)
}
ASSIGNED = "olly.operator"  # assigned to every deployment below; ivy.operator to none
OFFICER = "ann.authoriser"  # every deployment's authorising officer (a_deployment); pam.both, an authoriser, is not
PERSONS = sorted(PEOPLE)


def allowed(moves: dict, move: tuple[str, str], name: str) -> bool:
    roles = moves.get(move, set()) & set(PEOPLE[name])
    if roles == {"operator"} and name != ASSIGNED:
        return False
    if move == ("draft", "approved") and name != OFFICER:  # approved only by who answers for the deployment
        return False
    return bool(roles)


def audit_rows(conn: psycopg.Connection, object_id: str, action: str) -> list[dict]:
    return conn.execute("SELECT actor, role, details FROM audit.audit_log WHERE object_id = %s AND action = %s",
                        (object_id, action)).fetchall()


def version_move(to: str) -> str:
    if to == "approved":  # an approval in the mover's own name, with what it approves
        return ("UPDATE watchlist_versions SET state = 'approved', approved_by = current_user, approved_at = now(), "
                "criteria_sha256 = 'c' WHERE id = %s")
    return f"UPDATE watchlist_versions SET state = '{to}' WHERE id = %s"


@pytest.fixture(scope="module")
def versions_by_state(services):
    """One version in each state, each on its own deployment inside its window (built by pat.planner, approved
    by ann.authoriser unless a draft)."""
    return {state: a_version(services, a_deployment(services, operators=(ASSIGNED,)), state)
            for state in VERSION_STATES}


@pytest.mark.parametrize("name", PERSONS)
def test_every_move_of_a_watchlist_version_by_direct_sql(services, versions_by_state, name):
    with direct(services, name) as conn:
        for start, to in itertools.permutations(VERSION_STATES, 2):
            vid = versions_by_state[start]
            expected = allowed(VERSION_MOVES, (start, to), name)
            with conn.transaction(force_rollback=True):
                try:
                    with conn.transaction():
                        moved = conn.execute(version_move(to), (vid,)).rowcount
                except psycopg.errors.InsufficientPrivilege as refused:
                    assert not expected, f"{name} {start}->{to} refused: {refused}"
                    continue
                assert expected and moved == 1, f"{name} moved a version {start}->{to}"
                (row,) = audit_rows(conn, vid, f"watchlist.{to}")
                assert row["actor"] == name and row["role"] in VERSION_MOVES[(start, to)] & set(PEOPLE[name])
                assert row["details"]["from"] == start


@pytest.mark.parametrize("name", PERSONS)
def test_every_move_of_a_deployment_by_direct_sql(services, name):
    for start, to in itertools.permutations(DEPLOYMENT_STATUSES, 2):
        # A deployment lapses only once its window has ended; every other move is tried inside the window.
        window = {"starts_in_s": -7200, "length_s": 3600} if to == "lapsed" else {}
        dep = a_deployment(services, status=start, operators=(ASSIGNED,), **window)
        a_version(services, dep, "active")  # a planned deployment goes live with its list
        expected = allowed(DEPLOYMENT_MOVES, (start, to), name)
        with direct(services, name) as conn, conn.transaction(force_rollback=True):
            try:
                with conn.transaction():
                    conn.execute("UPDATE deployments SET status = %s, cancel_reason = CASE WHEN %s = 'cancelled' "
                                 "THEN 'attack' END WHERE id = %s", (to, to, dep))
            except psycopg.errors.InsufficientPrivilege as refused:
                assert not expected, f"{name} {start}->{to} refused: {refused}"
                continue
            assert expected, f"{name} moved a deployment {start}->{to}"
            (row,) = audit_rows(conn, dep, f"deployment.{to}")
            assert row["actor"] == name and row["details"]["from"] == start


@pytest.mark.parametrize("plan", ["never approved", "approved by its builder", "before the window",
                                  "after the window", "cancelled", "operator not assigned"])
def test_activation_needs_its_preconditions(services, plan):
    window = {"before the window": {"starts_in_s": 600}, "after the window": {"starts_in_s": -7200, "length_s": 3600}}
    dep = a_deployment(services, status="cancelled" if plan == "cancelled" else "planned",
                       operators=() if plan == "operator not assigned" else (ASSIGNED,), **window.get(plan, {}))
    approver = {"never approved": None, "approved by its builder": "pat.planner"}.get(plan, "ann.authoriser")
    vid = a_version(services, dep, "approved", approved_by=approver)
    with direct(services, ASSIGNED) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE watchlist_versions SET state = 'active' WHERE id = %s", (vid,))
    with superuser(services) as admin:
        assert admin.execute("SELECT state FROM watchlist_versions WHERE id = %s", (vid,)).fetchone()["state"] == "approved"


def test_no_approval_once_the_window_has_ended(services):
    dep = a_deployment(services, starts_in_s=-7200, length_s=3600)
    vid = a_version(services, dep, "draft")
    with direct(services, "ann.authoriser") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                                   match="window ended"):
        conn.execute(version_move("approved"), (vid,))


def test_a_deployment_lapses_only_once_its_window_has_ended(services):
    inside = a_deployment(services)
    with direct(services, "ada.admin") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                              match="cannot become lapsed before then"):
        conn.execute("UPDATE deployments SET status = 'lapsed' WHERE id = %s", (inside,))
    over = a_deployment(services, starts_in_s=-7200, length_s=3600)
    with direct(services, "ada.admin") as conn:
        conn.execute("UPDATE deployments SET status = 'lapsed' WHERE id = %s", (over,))
        (row,) = audit_rows(conn, over, "deployment.lapsed")
        assert row["actor"] == "ada.admin" and row["details"]["from"] == "planned"
    # A lapsed deployment is over: nothing goes live for it, and it is not cancelled after the fact.
    vid = a_version(services, over, "approved")
    with direct(services, ASSIGNED) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE watchlist_versions SET state = 'active' WHERE id = %s", (vid,))
    with direct(services, "pat.planner") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                                match="it cannot become cancelled"):
        conn.execute("UPDATE deployments SET status = 'cancelled', cancel_reason = 'late' WHERE id = %s", (over,))


def test_the_platform_moves_only_as_the_table_allows_and_its_rows_name_the_service(services, db):
    dep = a_deployment(services, operators=(ASSIGNED,))
    vid = a_version(services, dep, "draft")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), db.transaction():
        db.execute("UPDATE watchlist_versions SET state = 'active' WHERE id = %s", (vid,))
    with db.transaction():
        audit.describe_change(db, actor=SYSTEM.name, role=SYSTEM.role, details={"reason": "test"})
        db.execute("UPDATE watchlist_versions SET state = 'purging' WHERE id = %s", (vid,))
    (row,) = audit_rows(db, vid, "watchlist.purging")
    assert (row["actor"], row["role"], row["details"]["reason"]) == (SYSTEM.name, "system", "test")
    db.rollback()


def test_decisions_and_assignments_by_direct_sql_are_audited(services, db):
    dep = a_deployment(services, operators=(ASSIGNED,))
    vid = a_version(services, dep, "active")
    with superuser(services) as admin:
        alert = str(admin.execute(
            """INSERT INTO alerts (deployment_id, version_id, subject_ref, category, score, camera_id, track_id,
                                   captured_at) VALUES (%s, %s, 'S-1', 'wanted_suspect', 0.5, 'cam', 't', now())
               RETURNING id""", (dep, vid)).fetchone()["id"])
    with direct(services, "ivy.operator") as conn:  # not assigned: the alert is not even there
        assert conn.execute("UPDATE alerts SET status = 'confirmed', adjudicated_by = current_user, "
                            "adjudicated_at = now() WHERE id = %s", (alert,)).rowcount == 0
    with direct(services, ASSIGNED) as conn:
        conn.execute("UPDATE alerts SET status = 'confirmed', adjudicated_by = current_user, adjudicated_at = now() "
                     "WHERE id = %s", (alert,))
        conn.execute("UPDATE alerts SET engagement = 'subject', disposal = 'other', engagement_by = current_user, "
                     "engagement_at = now() WHERE id = %s", (alert,))
        assert [r["actor"] for r in audit_rows(conn, alert, "alert.confirmed")] == [ASSIGNED]
        assert [r["actor"] for r in audit_rows(conn, alert, "alert.engagement.subject")] == [ASSIGNED]
        with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
            conn.execute("INSERT INTO deployment_staff (deployment_id, person, role, assigned_by) "
                         "VALUES (%s, 'ivy.operator', 'operator', current_user)", (dep,))
    with direct(services, "pat.planner") as conn:
        conn.execute("INSERT INTO deployment_staff (deployment_id, person, role, assigned_by) "
                     "VALUES (%s, 'ivy.operator', 'operator', current_user)", (dep,))
        conn.execute("DELETE FROM deployment_staff WHERE deployment_id = %s AND person = 'ivy.operator'", (dep,))
        assert [(r["actor"], r["details"]["person"]) for r in audit_rows(conn, dep, "deployment.assign")
                if r["details"]["person"] == "ivy.operator"] == [("pat.planner", "ivy.operator")]
        assert [r["actor"] for r in audit_rows(conn, dep, "deployment.unassign")] == ["pat.planner"]
    # The decision stands, recorded once.
    assert alerts.get_alert(db, alert)["status"] == "confirmed"
    assert len(audit_rows(db, alert, "alert.confirmed")) == 1
    db.rollback()


def test_the_canonical_json_of_the_database_is_the_audit_logs(db):
    """The trigger-written rows are verified by lfr_core/audit/log.py: its canonical JSON and the database's agree."""
    samples = [{}, [], {"b": 1, "a": [1, 2.5, None, True]}, {"é": "ünï\n\t\"\\", "z": {"y": [], "x": {}}},
               {"k\u0001": "\u001f", "A": -0.125, "a": 10**12}, ["x", {"n": 0.1}]]
    for sample in samples:
        ours = db.execute("SELECT public.lfr_canonical_json(%s::jsonb) AS t",
                          (audit.canonical_json(sample),)).fetchone()["t"]
        assert ours == audit.canonical_json(sample), sample
    assert audit.verify(db).ok


def test_an_operator_not_assigned_cannot_expire_another_deployments_list_through_the_platform(services, db):
    vid = a_version(services, a_deployment(services, operators=(ASSIGNED,)), "active")
    with pytest.raises(Refused, match="not assigned"):
        lifecycle.expire(db, vid, Actor("ivy.operator", "operator"))
    assert lifecycle.get_version(db, vid)["state"] == "active"
    assert lifecycle.expire(db, vid, Actor(ASSIGNED, "operator"))["state"] == "expired"
    db.rollback()
