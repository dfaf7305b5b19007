"""Issue 27 item 4: threshold governance in the database, under the acting person's own login. Direct SQL cannot
plan a threshold under the pack's floor, build a list under its model's floor or under the value its recorded
equitability evaluation cleared, change a deployment's threshold without an authoriser's decision made for it now,
or record a decision under the floor, on an evaluation of another model, one that flags a difference or does not
reach the new value, or in someone else's name."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.deployments.evaluations import an_evaluation
from tests.security.conftest import ATTACK_PLACE, direct, superuser

Denied = psycopg.errors.InsufficientPrivilege
PLAN = """INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                  authorising_officer, allowed_categories, threshold, created_by, policy_name,
                                  policy_version, use_case, location_rationale, dpia_ref, eia_ref)
          VALUES (%s, 'p', 'b', 'INT-THR', now() + interval '1 hour', now() + interval '3 hours', 'ann.authoriser',
                  '{wanted_suspect}', %s, current_user, 'uk-app', 2, 'crime_hotspot', 'seen here', 'D-1', 'E-1')
          RETURNING id"""
BUILD = """INSERT INTO watchlist_versions (deployment_id, version, built_by, manifest_uri, manifest_sha256, detector,
                                          embedder, embedder_sha256, embedding_dim, threshold, entries_total,
                                          entries_accepted, entries_rejected)
           VALUES (%s, 1, current_user, 's3://lfr-sources/m.csv', 'm', '{}', %s, %s, 128, %s, 1, 1, 0)"""
DECIDE = """INSERT INTO threshold_decisions (deployment_id, old_threshold, new_threshold, calibration_id,
                                            embedder_sha256, floor, preview, reason, decided_by)
            VALUES (%s, %s, %s, %s, %s, 0, %s, 'grids show fewer false alerts', %s) RETURNING id"""


def planned(settings, threshold: float = 0.4) -> str:
    with direct(settings, "pat.planner") as conn:
        dep = str(conn.execute(PLAN, (ATTACK_PLACE, threshold)).fetchone()["id"])
        conn.commit()
    return dep


def seen(value: float) -> Jsonb:
    """The preview as the CLI keeps it: at the new value, per-group ratios without a flag."""
    return Jsonb({"new": {"threshold": value, "per_group": {"ratios": {"fnir": {"flag": False},
                                                                       "fpir": {"flag": False}}}}})


def sha() -> str:
    return "thr-" + uuid.uuid4().hex[:12]


def test_a_planned_threshold_under_the_packs_floor_is_refused(services):
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match=r"below the floor 0\.3 of policy pack uk-app"):
        conn.execute(PLAN, (ATTACK_PLACE, 0.25))
    assert planned(services, 0.3)  # at the floor it is accepted: the refusal is the floor's


def test_a_list_under_its_models_floor_or_its_equitability_value_is_refused(services):
    dep = planned(services)
    model = sha()
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match=r"below the floor 0\.3 for model sface"):
        conn.execute(BUILD, (dep, Jsonb({"name": "sface"}), model, 0.29))
    # A verdict that compared no groups is no evidence: the floor stays the pack's.
    an_evaluation(services, model, verdict_at=0.5, tested=False)
    with direct(services, "pat.planner") as conn:
        conn.execute(BUILD, (dep, Jsonb({"name": "sface"}), model, 0.40))
        conn.rollback()
    # A recorded evaluation of this model showed no flagged difference only from 0.45: the floor rises to it.
    an_evaluation(services, model, verdict_at=0.45)
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match=r"below the floor 0\.45 for model sface"):
        conn.execute(BUILD, (dep, Jsonb({"name": "sface"}), model, 0.40))
    with direct(services, "pat.planner") as conn:
        conn.execute(BUILD, (dep, Jsonb({"name": "sface"}), model, 0.46))
        conn.rollback()


def test_a_change_of_threshold_without_a_decision_is_refused(services):
    dep = planned(services)
    for who in ("pat.planner", "ann.authoriser"):
        with direct(services, who) as conn, pytest.raises(Denied, match="needs an authoriser's decision"):
            conn.execute("UPDATE deployments SET threshold = 0.5 WHERE id = %s", (dep,))


def test_a_decision_is_refused_under_the_floor_off_its_model_or_beyond_its_evaluation(services):
    dep = planned(services)
    model = sha()
    low = an_evaluation(services, model, verdict_at=0.2)  # covers 0.2 upwards; the pack's floor still holds
    flagged = an_evaluation(services, model, verdict_at=0.35, flagged=True)
    high = an_evaluation(services, model, verdict_at=0.6)
    other = an_evaluation(services, sha(), verdict_at=0.35)
    untested = an_evaluation(services, model, verdict_at=0.35, tested=False)
    cases = [((0.25, low, model, "ann.authoriser"), r"below the floor 0\.3"),
             ((0.5, flagged, model, "ann.authoriser"), "a flagged difference between groups"),
             ((0.5, high, model, "ann.authoriser"), r"does not cover threshold 0\.5"),
             ((0.5, untested, model, "ann.authoriser"), "no comparison of groups"),
             ((0.5, other, model, "ann.authoriser"), "is not an evaluation of model"),
             ((0.5, low, model, "someone.else"), "only in their own name")]
    for (value, evaluation, embedder, name), refusal in cases:
        with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match=refusal):
            conn.execute(DECIDE, (dep, 0.4, value, evaluation, embedder, seen(value), name))
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="permission denied"):
        conn.execute(DECIDE, (dep, 0.4, 0.5, low, model, seen(0.5), "pat.planner"))


def test_a_decision_changes_the_threshold_once_in_its_own_transaction_and_is_audited(services):
    dep = planned(services)
    model = sha()
    evaluation = an_evaluation(services, model, verdict_at=0.35)
    with direct(services, "ann.authoriser") as conn:
        decision = conn.execute(DECIDE, (dep, 0.4, 0.5, evaluation, model, seen(0.5), "ann.authoriser")).fetchone()["id"]
        conn.execute("UPDATE deployments SET threshold = 0.5, threshold_decision_id = %s WHERE id = %s",
                     (decision, dep))
        conn.commit()
        # Made and used: it cannot be replayed later, nor carry another change with it.
        with pytest.raises(Denied, match="needs an authoriser's decision"):
            conn.execute("UPDATE deployments SET threshold = 0.4, threshold_decision_id = %s WHERE id = %s",
                         (decision, dep))
        conn.rollback()
        again = conn.execute(DECIDE, (dep, 0.5, 0.55, evaluation, model, seen(0.55), "ann.authoriser")).fetchone()["id"]
        with pytest.raises(Denied, match="permission denied for table deployments"):  # threshold columns only
            conn.execute("UPDATE deployments SET threshold = 0.55, threshold_decision_id = %s, place = 'x' "
                         "WHERE id = %s", (again, dep))
        conn.rollback()
        with pytest.raises(Denied, match="permission denied for table threshold_decisions"):
            conn.execute("UPDATE threshold_decisions SET reason = 'other' WHERE id = %s", (decision,))
    with superuser(services) as conn:
        row = conn.execute("SELECT threshold, threshold_decision_id FROM deployments WHERE id = %s", (dep,)).fetchone()
        audit = conn.execute("SELECT actor, role, details FROM audit_log WHERE action = 'deployment.threshold' "
                             "AND object_id = %s", (dep,)).fetchall()
        recorded = conn.execute("SELECT floor, decided_by FROM threshold_decisions WHERE id = %s", (decision,)).fetchone()
    assert abs(row["threshold"] - 0.5) < 1e-6 and row["threshold_decision_id"] == decision
    assert recorded["floor"] == pytest.approx(0.35) and recorded["decided_by"] == "ann.authoriser"
    assert len(audit) == 1 and audit[0]["actor"] == "ann.authoriser" and audit[0]["role"] == "authoriser"
    assert audit[0]["details"]["decision_id"] == decision and audit[0]["details"]["evaluation_id"] == evaluation
