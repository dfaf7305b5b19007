"""The API's alert (AlertView) under two-person verification (issue 28 item 2), built from a real alert as the
ingress builds it: the second verifier gets it pending with no first assessment, its decider gets theirs "awaiting
second verifier", and once both decided both names come back."""

from __future__ import annotations

from datetime import timedelta

from lfr_core.alerts import service as alerts
from ray_apps.ingress.officers import _alert_out
from tests.alerts.test_two_person_flow import SECOND, eu_deployment, raise_one
from tests.conftest import OPERATOR

UNDO = timedelta(seconds=30)


def test_the_api_hides_the_first_assessment_from_the_second_verifier_then_names_both(db, services, store):
    dep, version = eu_deployment(db, services)
    alert = raise_one(db, services, store, dep, version, 20)
    alerts.adjudicate(db, store, alert, "confirmed", OPERATOR, "viable: same scar")
    row = alerts.get_alert_view(db, alert)
    theirs = _alert_out(row, UNDO, SECOND.name)
    assert (theirs.status, theirs.adjudicated_by, theirs.note, theirs.undo_until) == ("pending", None, None, None)
    assert theirs.verification == "awaiting second verifier"
    mine = _alert_out(row, UNDO, OPERATOR.name)
    assert (mine.status, mine.adjudicated_by, mine.verification) == ("confirmed", OPERATOR.name,
                                                                     "awaiting second verifier")
    alerts.adjudicate(db, store, alert, "confirmed", SECOND)
    both = _alert_out(alerts.get_alert_view(db, alert), UNDO, SECOND.name)
    assert (both.verification, both.adjudicated_by, both.second_by, both.second_status) == (
        "verified", OPERATOR.name, SECOND.name, "confirmed")
