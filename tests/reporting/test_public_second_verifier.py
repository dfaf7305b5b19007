"""Issue 28 items 2 and 4 on the public record: alerts assessed by one officer and awaiting the second verifier of
Art 14(5) have a count of their own in the public results (JSON and page), and keep the row provisional."""

from __future__ import annotations

from lfr_core.alerts import service as alerts
from lfr_core.reporting import public_record
from tests.alerts.test_two_person_flow import SECOND, eu_deployment, raise_one
from tests.conftest import OPERATOR
from tests.reporting.story import public_client
from tests.rows import _write


def test_alerts_awaiting_a_second_verifier_are_counted_and_keep_the_results_provisional(db, services, store):
    dep, version = eu_deployment(db, services)
    verified, waiting, declined, _undecided = (raise_one(db, services, store, dep, version, i) for i in range(4))
    for alert_id, decision in ((verified, "confirmed"), (waiting, "confirmed"), (declined, "declined")):
        alerts.adjudicate(db, store, alert_id, decision, OPERATOR, "first look")
    alerts.adjudicate(db, store, verified, "confirmed", SECOND, "second look")
    alerts.record_engagement(db, verified, "subject", SECOND, disposal="arrest")
    _write("UPDATE deployments SET status = 'closed' WHERE id = %s", (dep,))

    out = public_record.results(db, dep)
    assert (out["alerts"], out["awaiting_second_verifier"], out["awaiting_decision"]) == (4, 2, 1)
    assert out["true_alerts_confirmed"] == 1 and out["false_alerts"] == 0  # one look is not a decision
    assert out["provisional"] and "2 alert(s) await a second verifier" in out["provisional_reasons"]
    db.commit()
    client = public_client(db, services)
    as_json = client.get(f"/public/deployments/{dep}/results").json()
    assert (as_json["awaiting_second_verifier"], as_json["provisional"]) == (2, True)
    page = client.get(f"/public/deployments/{dep}").text
    assert "<td>Alerts awaiting a second verifier</td><td class='n'>2</td>" in page
    assert "2 alert(s) await a second verifier" in page

    alerts.adjudicate(db, store, waiting, "confirmed", SECOND, "second look")
    alerts.adjudicate(db, store, declined, "declined", SECOND, "second look")
    again = public_record.results(db, dep)
    assert again["awaiting_second_verifier"] == 0
    assert not [r for r in again["provisional_reasons"] if "second verifier" in r]
