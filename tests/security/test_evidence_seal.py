"""Issue 32 item 5: a list is sealed (approved, then activated) only where the recorded impostor evidence resolves
its threshold at its size, or an authoriser other than its builder records why it is sealed anyway. Direct SQL
with a person's own login cannot seal one otherwise: not by approving or activating it, not by writing evidence
that claims to resolve, not by recording a decision in another's name or before approval."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from tests.security.conftest import a_deployment, a_version, direct, superuser

APPROVE = ("UPDATE watchlist_versions SET state = 'approved', approved_by = current_user, approved_at = now(), "
           "criteria_sha256 = 'c' WHERE id = %s")
Denied = psycopg.errors.InsufficientPrivilege


@pytest.fixture(autouse=True)
def _required(resolved_evidence_required):
    yield


def _calibration(settings, embedder_sha256: str, upper_at_half: float) -> int:
    """A recorded tail for `embedder_sha256`: at 0.40 many impostors, at 0.50 and above p <= `upper_at_half`."""
    tail = [{"threshold": 0.4, "exceed": 500, "rate": 5e-3, "upper": 5.5e-3},
            {"threshold": 0.5, "exceed": 0, "rate": 0.0, "upper": upper_at_half}]
    with superuser(settings) as conn:
        return conn.execute(
            """INSERT INTO model_calibrations (embedder_sha256, detector_sha256, model, manifest, n_gallery,
                                               nonmated_top_scores, summary, recorded_by, impostor_pairs, impostor_tail)
               VALUES (%s, 'd', '{}', 'm.csv', 10, '{0.1}', '{}', 'ada.admin', 100000, %s) RETURNING id""",
            (embedder_sha256, Jsonb(tail))).fetchone()["id"]


def _judged(settings, vid: str, calibration_id: int | None, target: float = 0.01) -> None:
    with superuser(settings) as conn:
        conn.execute("UPDATE watchlist_versions SET evidence_calibration_id = %s, evidence_target_fpir = %s, "
                     "evidence = '{\"resolves\": true}' WHERE id = %s", (calibration_id, target, vid))


def test_an_authoriser_cannot_approve_unresolved_evidence_by_direct_sql(services):
    vid = a_version(services, a_deployment(services), "draft")  # no evidence recorded
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="does not resolve a list of 1"):
        conn.execute(APPROVE, (vid,))


def test_evidence_that_claims_to_resolve_is_checked_against_the_recorded_tail(services):
    # The version's own claim ('resolves': true) counts for nothing: at threshold 0.4 the tail's bound is 5.5e-3
    # per comparison, and with one template 5.5e-3 > a target of 1e-3.
    vid = a_version(services, a_deployment(services), "draft")
    _judged(services, vid, _calibration(services, "e", 3e-5), target=1e-3)
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="does not resolve"):
        conn.execute(APPROVE, (vid,))
    # A tail of another model resolves nothing for this one.
    other = a_version(services, a_deployment(services), "draft")
    _judged(services, other, _calibration(services, "another-model", 3e-5))
    with superuser(services) as conn:
        conn.execute("UPDATE watchlist_versions SET threshold = 0.5 WHERE id = %s", (other,))
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="does not resolve"):
        conn.execute(APPROVE, (other,))


def test_resolved_evidence_is_approved_and_activated(services):
    vid = a_version(services, a_deployment(services, operators=("olly.operator",)), "draft")
    with superuser(services) as conn:
        conn.execute("UPDATE watchlist_versions SET threshold = 0.5 WHERE id = %s", (vid,))
    _judged(services, vid, _calibration(services, "e", 3e-5))  # 1 template: 3e-5 <= 0.01
    with direct(services, "ann.authoriser") as conn:
        assert conn.execute(APPROVE + " RETURNING state", (vid,)).fetchone()["state"] == "approved"
    with direct(services, "olly.operator") as conn:
        conn.execute("UPDATE watchlist_versions SET state = 'active' WHERE id = %s RETURNING state", (vid,))


def test_an_approved_list_without_evidence_cannot_go_live(services):
    vid = a_version(services, a_deployment(services, operators=("olly.operator",)), "approved")
    with direct(services, "olly.operator") as conn, pytest.raises(Denied, match="does not resolve"):
        conn.execute("UPDATE watchlist_versions SET state = 'active' WHERE id = %s", (vid,))


def test_the_decision_to_seal_anyway_is_the_approvers_own_and_recorded_only_by_approving(services):
    vid = a_version(services, a_deployment(services), "draft")
    in_anothers_name = ("UPDATE watchlist_versions SET state = 'approved', approved_by = current_user, "
                        "approved_at = now(), criteria_sha256 = 'c', evidence_override_by = 'pam.both', "
                        "evidence_override_reason = 'x', evidence_override_at = now() WHERE id = %s")
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="own name and with a reason"):
        conn.execute(in_anothers_name, (vid,))
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="only by approving"):
        conn.execute("UPDATE watchlist_versions SET evidence_override_by = current_user, "
                     "evidence_override_reason = 'x', evidence_override_at = now() WHERE id = %s", (vid,))
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="never change"):
        conn.execute("UPDATE watchlist_versions SET evidence_target_fpir = 0.5 WHERE id = %s", (vid,))
    with direct(services, "ann.authoriser") as conn:
        row = conn.execute(APPROVE.replace("criteria_sha256 = 'c'", "criteria_sha256 = 'c', evidence_override_by = "
                                           "current_user, evidence_override_reason = 'named by the court', "
                                           "evidence_override_at = now()") + " RETURNING state", (vid,)).fetchone()
        assert row["state"] == "approved"
        audited = conn.execute("SELECT details FROM audit.audit_log WHERE object_id = %s AND action = "
                               "'watchlist.approved'", (vid,)).fetchone()
    assert audited["details"]["evidence_override_reason"] == "named by the court"
