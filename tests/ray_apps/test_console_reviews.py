"""The review screen (issue 28 item 5) and the live gate with the cameras' ranges on the dashboard (issue 32 items
2-3): the routes against the database as the reviewer, then the page in Chromium against the stand-in officer API."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lfr_core.alerts import reviews
from lfr_core.identity.model import Actor
from ray_apps.ingress import officers
from ray_apps.ingress.context import context
from ray_apps.ingress.errors import use_error_table
from tests.browser import launch, needs_chromium, screenshot
from tests.conftest import ADMIN, AUDITOR, OPERATOR
from tests.ray_apps.console_standin import DEP, Officer, serve, signed_in
from tests.reporting.story import scripted_deployment


def _client(db, services, who: Actor) -> TestClient:
    async def on_db(fn, *args):
        return fn(db, *args)

    async def person(_auth, *_roles) -> Actor:
        return who

    app = FastAPI()
    use_error_table(app)
    app.include_router(officers.router)
    app.dependency_overrides[context] = lambda: SimpleNamespace(settings=services, db=on_db,
                                                                access=SimpleNamespace(person=person))
    return TestClient(app)


@pytest.mark.services
def test_the_reviewer_lists_their_open_reviews_and_records_a_finding_once(db, services, store):
    _, ids = scripted_deployment(db, services, store, "Review Screen Row")
    reviews.assign(db, ids[0], AUDITOR.name, ADMIN)  # a false alert, declined
    reviews.assign(db, ids[6], AUDITOR.name, ADMIN)  # a true alert the subject evaded
    db.commit()
    auditor = _client(db, services, AUDITOR)
    mine = {r["alert_id"]: r for r in auditor.get("/v1/me/reviews").json()}
    assert {ids[0], ids[6]} <= set(mine)
    assert (mine[ids[0]]["alert_class"], mine[ids[0]]["status"]) == ("false_unconfirmed", "declined")
    assert (mine[ids[6]]["alert_class"], mine[ids[6]]["engagement"]) == ("true_unconfirmed", "evaded")
    assert "subject_ref" not in mine[ids[0]]
    assert _client(db, services, OPERATOR).get("/v1/me/reviews").json() == []  # not theirs

    done = auditor.post(f"/v1/alerts/{ids[0]}/review", json={"finding": "not viable: different ears"})
    assert done.status_code == 200, done.text
    assert (done.json()["reviewer"], done.json()["finding"]) == (AUDITOR.name, "not viable: different ears")
    assert ids[0] not in {r["alert_id"] for r in auditor.get("/v1/me/reviews").json()}
    again = auditor.post(f"/v1/alerts/{ids[0]}/review", json={"finding": "again"})
    assert again.status_code == 409 and "is done" in again.json()["detail"]
    assert _client(db, services, OPERATOR).post(f"/v1/alerts/{ids[6]}/review",
                                                json={"finding": "x"}).status_code == 404
    assert auditor.post(f"/v1/alerts/{ids[6]}/review", json={"finding": ""}).status_code == 422


REVIEW = {"alert_id": "a-9", "deployment_id": DEP, "alert_class": "false_confirmed", "assigned_by": "ada.admin",
          "assigned_at": "2026-12-05T10:00:00Z", "category": "wanted_by_court", "score": 0.52, "camera_id": "cam-north",
          "captured_at": "2026-12-05T08:00:00Z", "status": "confirmed", "engagement": "someone_else",
          "disposal": "no_action"}
GATE = "Live gate: faces at least 48 px wide (the reliable size from the recorded curve)"


@pytest.mark.browser
@needs_chromium
def test_the_console_shows_the_reviews_records_a_finding_and_shows_the_gate_and_ranges():
    from playwright.sync_api import sync_playwright

    officer = Officer(reviews=[REVIEW], dashboard={"live_gate": GATE,
                                                   "camera_ranges": ["cam-north: 5.54 m at 48 px"]})
    with serve(officer) as url, sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            signed_in(page, url)
            page.wait_for_selector(".review[data-alert='a-9']")
            card = page.inner_text(".review[data-alert='a-9']")
            page.wait_for_selector("#gate:has-text('Live gate')")
            gate, ranges = page.inner_text("#gate"), page.inner_text("#ranges")
            page.fill(".review[data-alert='a-9'] textarea", "someone else: the decision stands")
            page.click(".review[data-alert='a-9'] button:has-text('Record finding')")
            page.wait_for_selector(".review[data-alert='a-9'] [role=status]")
            recorded = page.inner_text(".review[data-alert='a-9']")
            screenshot(page, "console-reviews")
        finally:
            browser.close()
    assert "False alert, confirmed (engaged: someone else)" in card and "cam-north" in card and "S-0001" not in card
    assert gate == GATE and "cam-north: 5.54 m at 48 px" in ranges
    assert ("/v1/alerts/a-9/review", {"finding": "someone else: the decision stands"}) in officer.posted
    assert "Review of alert a-9 recorded by pc.ada" in recorded


@pytest.mark.browser
@needs_chromium
def test_no_review_section_without_reviews_and_the_gate_says_when_no_list_is_built():
    from playwright.sync_api import sync_playwright

    with serve(Officer()) as url, sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            signed_in(page, url)
            page.wait_for_selector("#gate:has-text('Live gate')")
            hidden, gate = page.is_hidden("#reviews"), page.inner_text("#gate")
            ranges = page.inner_text("#ranges")
        finally:
            browser.close()
    assert hidden and gate == "Live gate: no list built yet" and "No camera registered" in ranges
