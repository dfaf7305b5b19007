"""Issue 28 item 2 (AI Act Art 14(5)) by direct SQL with ordinary logins: under a pack that requires two-person
verification, an alert is verified only by two different officers assigned to the deployment, each assessing it
once, separately; no engagement result before both. A single officer, the same officer twice, an unassigned officer
(an admin) or a shortcut in one statement is refused by the alerts trigger; a pack without the rule takes no second
verifier."""

from __future__ import annotations

import psycopg
import pytest

from tests.security.conftest import a_deployment, a_version, direct, superuser
from tests.security.test_adjudication_transitions import an_alert

FIRST, SECOND = "olly.operator", "ivy.operator"
REFUSED = psycopg.errors.InsufficientPrivilege
ASSESS = "UPDATE alerts SET status = %s, adjudicated_by = current_user, adjudicated_at = now() WHERE id = %s"
VERIFY = "UPDATE alerts SET second_status = %s, second_by = current_user, second_at = now() WHERE id = %s"
ENGAGE = ("UPDATE alerts SET engagement = 'subject', disposal = 'arrest', engagement_by = current_user, "
          "engagement_at = now() WHERE id = %s")


def under_pack(settings, dep: str, pack: str, use_case: str) -> str:
    """The deployment put under a loaded pack, as the administrator."""
    with superuser(settings) as admin:
        admin.execute("UPDATE deployments SET policy_name = %s, use_case = %s, location_rationale = 'wanted people "
                      "are seen here', policy_version = (SELECT max(version) FROM policy_packs WHERE name = %s) "
                      "WHERE id = %s", (pack, use_case, pack, dep))
    return dep


def refused(settings, who: str, sql: str, *params: object) -> str:
    with direct(settings, who) as conn, pytest.raises(REFUSED) as caught:
        conn.execute(sql, params)
    return str(caught.value)


def run(settings, who: str, sql: str, *params: object) -> int:
    with direct(settings, who) as conn:
        n = conn.execute(sql, params).rowcount
        conn.commit()
    return n


@pytest.fixture
def eu_alert(services):
    dep = under_pack(services, a_deployment(services, operators=(FIRST, SECOND)), "eu-ai-act", "art5_1_h_iii")
    return dep, an_alert(services, dep, a_version(services, dep, "active"))


def stored(settings, alert_id: str) -> dict:
    with superuser(settings) as admin:
        return admin.execute("SELECT status, adjudicated_by, second_status, second_by, engagement FROM alerts "
                             "WHERE id = %s", (alert_id,)).fetchone()


def test_a_single_officer_cannot_record_a_result_nor_verify_twice(services, eu_alert):
    _, alert = eu_alert
    run(services, FIRST, ASSESS, "confirmed", alert)
    assert "awaiting second verifier" in refused(services, FIRST, ENGAGE, alert)
    assert "made the first assessment" in refused(services, FIRST, VERIFY, "confirmed", alert)
    # Nor in another's name.
    assert "in the name of" in refused(
        services, FIRST, "UPDATE alerts SET second_status = 'confirmed', second_by = %s, second_at = now() "
        "WHERE id = %s", SECOND, alert)
    assert stored(services, alert)["second_status"] is None


def test_an_unassigned_officer_cannot_verify(services, eu_alert):
    _, alert = eu_alert
    # An admin sees and may change every alert, but is not one of the deployment's assigned officers.
    assert "not an operator assigned" in refused(services, "ada.admin", ASSESS, "confirmed", alert)
    run(services, FIRST, ASSESS, "confirmed", alert)
    assert "not an operator assigned" in refused(services, "ada.admin", VERIFY, "confirmed", alert)
    assert stored(services, alert)["second_status"] is None


def test_no_shortcut_in_one_statement_nor_before_the_first(services, eu_alert):
    _, alert = eu_alert
    assert "the second after the first" in refused(services, SECOND, VERIFY, "confirmed", alert)
    refused(services, FIRST, "UPDATE alerts SET status = 'confirmed', adjudicated_by = current_user, "
            "adjudicated_at = now(), second_status = 'confirmed', second_by = current_user, second_at = now() "
            "WHERE id = %s", alert)
    run(services, FIRST, ASSESS, "confirmed", alert)
    refused(services, SECOND, "UPDATE alerts SET second_status = 'confirmed', second_by = current_user, "
            "second_at = now(), engagement = 'subject', disposal = 'arrest', engagement_by = current_user, "
            "engagement_at = now() WHERE id = %s", alert)


def test_two_officers_verify_then_a_result_follows_and_nothing_moves_back(services, eu_alert):
    _, alert = eu_alert
    run(services, FIRST, ASSESS, "confirmed", alert)
    assert run(services, SECOND, VERIFY, "confirmed", alert) == 1
    assert "verified separately by two officers, each once" in refused(services, SECOND, VERIFY, "declined", alert)
    # The first officer may no longer take theirs back: the second has decided on it.
    refused(services, FIRST, "UPDATE alerts SET status = 'pending', adjudicated_by = NULL, adjudicated_at = NULL "
            "WHERE id = %s", alert)
    assert run(services, SECOND, ENGAGE, alert) == 1
    row = stored(services, alert)
    assert (row["status"], row["adjudicated_by"], row["second_status"], row["second_by"], row["engagement"]) == (
        "confirmed", FIRST, "confirmed", SECOND, "subject")
    with superuser(services) as admin:
        logged = admin.execute("SELECT action, actor FROM audit.audit_log WHERE object_id = %s AND action <> "
                               "'alert.raise' ORDER BY seq", (alert,)).fetchall()
    assert [(r["action"], r["actor"]) for r in logged] == [
        ("alert.confirmed", FIRST), ("alert.second.confirmed", SECOND), ("alert.engagement.subject", SECOND)]


def test_a_second_verifier_who_declines_leaves_the_alert_unverified(services, eu_alert):
    _, alert = eu_alert
    run(services, FIRST, ASSESS, "confirmed", alert)
    run(services, SECOND, VERIFY, "declined", alert)
    assert "judged it declined" in refused(services, FIRST, ENGAGE, alert)


def test_a_pack_without_the_rule_takes_no_second_verifier(services):
    dep = under_pack(services, a_deployment(services, operators=(FIRST, SECOND)), "uk-app", "crime_hotspot")
    alert = an_alert(services, dep, a_version(services, dep, "active"))
    run(services, FIRST, ASSESS, "confirmed", alert)
    assert "does not ask for a second verifier" in refused(services, SECOND, VERIFY, "confirmed", alert)
    assert run(services, FIRST, ENGAGE, alert) == 1
