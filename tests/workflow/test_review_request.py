"""The Required Action that asks an admin to assign the post-deployment reviews (issue 28 item 5), against the
database: what it lists, the answer applied as the admin, and an assignment the database refuses named."""

from __future__ import annotations

import pytest

from lfr_core.alerts import reviews
from lfr_core.errors import InvalidInput
from lfr_core.workflow import review_request
from tests.conftest import ADMIN, AUDITOR, OPERATOR
from tests.reporting.story import scripted_deployment


def test_the_request_lists_the_alerts_to_review_and_the_answer_assigns_them_as_the_admin(db, services, store):
    dep, ids = scripted_deployment(db, services, store, "Review Request Row")
    db.commit()
    asked = review_request.request(services, dep)
    # The story's reviewed alerts: the false ones (0, 4, 5) and the true ones left unconfirmed (6, 7).
    assert sorted(asked["alerts"]) == sorted(ids[i] for i in (0, 4, 5, 6, 7))
    assert ADMIN.name in asked["respondents"] and all(f"`{ids[i]}`" in asked["body"] for i in (0, 6))

    # The officer who decided them may not review them: every one is refused, by the database, and named.
    refused = review_request.answer(services, dep, ADMIN.name, review_request.ASSIGN, OPERATOR.name)
    assert refused["assigned"] == [] and set(refused["refused"]) == set(asked["alerts"])
    done = review_request.answer(services, dep, ADMIN.name, review_request.ASSIGN, AUDITOR.name)
    assert sorted(done["assigned"]) == sorted(asked["alerts"]) and done["refused"] == {}
    listed = {str(r["alert_id"]): (r["reviewer"], r["assigned_by"]) for r in reviews.list_reviews(db, dep)}
    assert all(listed[a] == (AUDITOR.name, ADMIN.name) for a in asked["alerts"])
    assert review_request.request(services, dep)["alerts"] == []  # nothing left to ask

    with pytest.raises(InvalidInput, match="reviewer"):
        review_request.answer(services, dep, ADMIN.name, review_request.ASSIGN, " ")
    assert review_request.answer(services, dep, ADMIN.name, review_request.LATER, None)["assigned"] == []
