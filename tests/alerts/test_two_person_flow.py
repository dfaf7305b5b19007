"""Issue 28 item 2 through the platform's own functions: under the eu-ai-act pack an alert is decided by two
assigned officers, the second without seeing the first's assessment, no result before both, and the tally counts an
alert only once both have assessed it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.alerts import service as alerts
from lfr_core.audit import queries as audit_queries
from lfr_core.audit import use_log
from lfr_core.deployments import service as deployments
from lfr_core.errors import Refused
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.reporting.tally import tally
from tests.conftest import OPERATOR, add_people
from tests.rows import _write, insert_deployment, insert_version

SECOND = Actor("ivy.operator", "operator")


def eu_deployment(conn, settings) -> tuple[str, str]:
    add_people(settings)
    now = datetime.now(UTC)
    dep = insert_deployment(conn, window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=1),
                            status="live", place="Two Person Street")
    _write("UPDATE deployments SET policy_name = 'eu-ai-act', use_case = 'art5_1_h_iii', "
           "policy_version = (SELECT max(version) FROM policy_packs WHERE name = 'eu-ai-act'), "
           "location_rationale = 'wanted people are seen here' WHERE id = %s", (dep,))
    version = insert_version(conn, dep, state="active", accepted=2, activated_at=now - timedelta(hours=1))
    for officer in (OPERATOR, SECOND):
        deployments.assign(conn, dep, officer.name, "operator", SYSTEM)
    return str(dep), str(version)


def raise_one(conn, settings, store, dep: str, version: str, i: int) -> str:
    alert = alerts.raise_alert(conn, store, settings.s3.bucket_alerts, alerts.NewAlert(
        deployment_id=dep, version_id=version, subject_ref=f"TWO-{i}", category="wanted_by_court", score=0.6,
        camera_id="cam-1", track_id=f"t{i}", captured_at=datetime.now(UTC), watchlist_image_uri=None),
        b"\xff\xd8 not a real crop", SYSTEM)
    return str(alert["id"])


def test_two_officers_verify_separately_and_the_tally_waits_for_both(db, services, store):
    dep, version = eu_deployment(db, services)
    verified, waiting, disputed, declined = (raise_one(db, services, store, dep, version, i) for i in range(4))
    with pytest.raises(Refused, match="two officers' verification before any result"):
        alerts.adjudicate(db, store, verified, "not_engaged", OPERATOR)
    for alert_id in (verified, waiting, disputed):
        alerts.adjudicate(db, store, alert_id, "confirmed", OPERATOR, "viable")
    alerts.adjudicate(db, store, declined, "declined", OPERATOR, "not viable")

    # The second officer sees each as pending, awaiting their own assessment; the first sees their own.
    seen = alerts.as_seen_by(alerts.get_alert_view(db, waiting), SECOND.name)
    assert (seen["status"], seen["adjudicated_by"], seen["verification"]) == ("pending", None, "awaiting second verifier")
    assert alerts.as_seen_by(alerts.get_alert_view(db, declined), SECOND.name)["status"] == "pending"
    mine = alerts.as_seen_by(alerts.get_alert_view(db, waiting), OPERATOR.name)
    assert (mine["status"], mine["adjudicated_by"]) == ("confirmed", OPERATOR.name)

    with pytest.raises(Refused, match="a second officer verifies it"):
        alerts.adjudicate(db, store, waiting, "confirmed", OPERATOR)
    with pytest.raises(Refused, match="awaiting second verifier"):
        alerts.record_engagement(db, waiting, "subject", OPERATOR, disposal="arrest")

    alerts.adjudicate(db, store, verified, "confirmed", SECOND, "viable too")
    alerts.adjudicate(db, store, disputed, "declined", SECOND, "not the same person")
    with pytest.raises(Refused, match="already adjudicated by two officers"):
        alerts.adjudicate(db, store, verified, "declined", SECOND)
    with pytest.raises(Refused, match="not verified"):
        alerts.record_engagement(db, disputed, "subject", OPERATOR, disposal="arrest")
    alerts.record_engagement(db, verified, "subject", SECOND, disposal="arrest")
    both = alerts.as_seen_by(alerts.get_alert_view(db, verified), SECOND.name)
    assert (both["adjudicated_by"], both["second_by"], both["verification"]) == (
        OPERATOR.name, SECOND.name, "verified")

    counted = tally(db, dep)
    assert counted.alerts == 4 and counted.reconciled
    assert counted.count("true_confirmed") == 1 and counted.count("false_unconfirmed") == 1  # verified; disputed
    assert counted.outcomes["arrest"] == 1
    assert counted.awaiting_second == 2  # waiting and declined: one assessment is not a decision
    assert counted.awaiting_result == 0
    assert "2 alert(s) await a second verifier" in counted.provisional_reasons

    # The per-use log's "verified by" names both officers, each with their own assessment (Art 12(3)(d)).
    rows = audit_queries.rows_of_deployment(db, dep)
    match = next(m for m in use_log._matches(rows, version) if m["alert_id"] == verified)
    assert [(v["person"], v["decision"]) for v in match["verified_by"]] == [
        (OPERATOR.name, "confirmed"), (SECOND.name, "second.confirmed"), (SECOND.name, "engagement.subject")]


def test_lfr_alert_shows_the_second_verifier_only_their_own_assessment_then_both_names(db, services, store):
    from tests.identity.test_people import run_as

    dep, version = eu_deployment(db, services)
    alert = raise_one(db, services, store, dep, version, 9)
    first = run_as(OPERATOR.name, ["alert", "adjudicate", alert, "confirmed"])
    assert first.exit_code == 0, first.output
    assert "awaiting second verifier (confirmed by olly.operator)" in first.output
    listed = run_as(SECOND.name, ["alert", "list", "--deployment", dep, "--reason", "second verification", "--json"])
    assert listed.exit_code == 0, listed.output
    assert '"adjudicated_by": null' in listed.output and "olly.operator" not in listed.output
    assert run_as(OPERATOR.name, ["alert", "engagement", alert, "subject", "--outcome", "arrest"]).exit_code == 3
    second = run_as(SECOND.name, ["alert", "adjudicate", alert, "confirmed"])
    assert second.exit_code == 0, second.output
    assert "verified: confirmed by olly.operator, confirmed by ivy.operator" in " ".join(second.output.split())
