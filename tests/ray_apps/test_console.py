"""The operator console in a headless Chromium against the running ingress: an officer signs in, an alert
raised by frames of the real video appears without a reload, they confirm it with a note (and undo and
confirm again), record an arrest and see the dashboard count it; another deployment's officer sees nothing
of it; an alert that retention deleted answers with a clear message. Screenshots go to the test artefacts."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from lfr_core.db.connection import admin_dsn
from lfr_core.storage.objectstore import parse_s3_uri
from tests.browser import launch, needs_chromium, screenshot
from tests.conftest import OPERATOR, PASSWORD
from tests.ray_apps.conftest import MIRANDA
from tests.ray_apps.test_live_serve import post, video_frames

WHY = "adjudicating alerts of the console test"
pytestmark = [pytest.mark.slow, pytest.mark.browser, needs_chromium]


def _sign_in(page, url: str, name: str) -> None:
    page.goto(f"{url}/console")
    page.fill("#user", name)
    page.fill("#pass", PASSWORD)
    page.click("#signin button")
    page.wait_for_selector("#who:has-text('Signed in as')")


def _stream_clip(url: str, live: dict, shared_dir) -> None:
    start = datetime.now(UTC)
    for offset, jpeg in video_frames(shared_dir):
        r = post(url, live["deployment"]["id"], live["keys"]["camera"], jpeg, when=start + timedelta(seconds=offset))
        assert r.status_code == 200, r.text


def test_an_officer_works_an_alert_from_the_console(serve_url, live, shared_dir, services, store):
    from playwright.sync_api import sync_playwright

    dep = str(live["deployment"]["id"])
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            _sign_in(page, serve_url, OPERATOR.name)
            # Every deployment they are assigned to (other test modules assign them too), this one among them;
            # the list is filled after the sign-in shows, so wait for it.
            page.wait_for_selector("#dep option", state="attached")
            assert dep in page.locator("#dep option").evaluate_all("os => os.map(o => o.value)")
            page.select_option("#dep", dep)
            page.fill("#why", WHY)
            page.click("#open")
            page.wait_for_selector("#live:has-text('live')")
            screenshot(page, "console-waiting")

            # The page is open; the camera now sends the clip. The alert must arrive without a reload.
            feeder = threading.Thread(target=_stream_clip, args=(serve_url, live, shared_dir))
            feeder.start()
            card = page.locator("article.alert.pending").first
            card.wait_for(timeout=120_000)
            feeder.join(timeout=300)
            assert MIRANDA in card.inner_text() and "wanted on warrant W-1" in card.inner_text()
            for label in ("Camera (probe)", "Watchlist"):
                img = card.locator(f"figure:has(figcaption:text-is('{label}')) img")
                img.wait_for()
                page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
            sizes = card.locator("figure img").evaluate_all("is => is.map(i => [i.clientWidth, i.clientHeight])")
            assert sizes[0] == sizes[1], "probe and watchlist faces are shown at the same scale"
            screenshot(page, "console-alert")

            # Confirm, with a note, after the confirmation step; undo; confirm again.
            card.get_by_role("button", name="Confirm match").click()
            page.fill("#note", "matches the custody photo; engaging")
            page.click("#decide-ok")
            decided = page.locator("article[data-alert] .status.confirmed")
            decided.wait_for()
            assert "engaging" in decided.inner_text() and OPERATOR.name in decided.inner_text()
            page.get_by_role("button", name="Undo").first.click()
            page.locator("article.alert.pending").first.wait_for()
            page.locator("article.alert.pending").first.get_by_role("button", name="Confirm match").click()
            page.click("#decide-ok")
            page.locator("article .status.confirmed").first.wait_for()

            # After the engagement: its outcome, counted on the dashboard.
            page.select_option("article select", "subject:arrest")
            page.get_by_role("button", name="Record outcome").click()
            page.click("#decide-ok")
            page.locator("article:has-text('Outcome: Engaged: the subject, Arrest')").wait_for()
            page.wait_for_function("document.getElementById('dash').dataset.arrests === '1' && "
                                   "document.getElementById('dash').dataset.confirmed === '1'", timeout=20_000)
            assert "faces seen" in page.inner_text("#dash")
            page.locator("#tiles .tile:has-text('cam-1')").wait_for(timeout=20_000)
            screenshot(page, "console-decided")
            page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, "nothing runs off a tablet's screen"
            screenshot(page, "console-tablet")

            # Another deployment's officer: only their own deployment, and nothing of this one's alerts.
            other = browser.new_page(viewport={"width": 1366, "height": 900})
            _sign_in(other, serve_url, "ivy.operator")
            other.wait_for_selector("#dep option", state="attached")
            theirs = other.locator("#dep option").evaluate_all("os => os.map(o => o.value)")
            assert str(live["idle"]["id"]) in theirs and dep not in theirs
            other.select_option("#dep", str(live["idle"]["id"]))
            other.fill("#why", WHY)
            other.click("#open")
            other.wait_for_selector("#live:has-text('live')")
            assert other.locator("article.alert").count() == 0
            screenshot(other, "console-other-officer")
        finally:
            browser.close()

    # The same alert, straight through the API: no second decision, none by a planner, none once deleted.
    token = httpx.post(f"{serve_url}/v1/auth/token", data={"username": OPERATOR.name, "password": PASSWORD},
                       timeout=10).json()["access_token"]
    op = {"Authorization": f"Bearer {token}"}
    alert = httpx.get(f"{serve_url}/v1/deployments/{dep}/alerts", params={"reason": WHY}, headers=op, timeout=10).json()[0]
    again = httpx.post(f"{serve_url}/v1/alerts/{alert['id']}/adjudication", json={"outcome": "declined"}, headers=op,
                       timeout=10)
    assert again.status_code == 409 and "already adjudicated" in again.json()["detail"]
    with psycopg.connect(admin_dsn(services)) as conn:  # retention's deletion (the row and its crop)
        crop = conn.execute("DELETE FROM alerts WHERE id = %s RETURNING probe_crop_uri", (alert["id"],)).fetchone()[0]
    store.delete_prefix(*parse_s3_uri(crop))
    gone = httpx.post(f"{serve_url}/v1/alerts/{alert['id']}/engagement", json={"outcome": "spoken_to"}, headers=op,
                      timeout=10)
    assert gone.status_code == 404 and "no alert" in gone.json()["detail"]


def test_the_public_sees_the_notice_before_the_window_and_the_results_after(serve_url, live, services, store, db):
    from playwright.sync_api import sync_playwright

    from tests.reporting.test_public_record import SUBJECTS, closed_deployment_with_alerts

    closed = closed_deployment_with_alerts(db, services, store, "Published Results Square")
    upcoming = str(live["idle"]["id"])
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 900})
            page.goto(f"{serve_url}/public/deployments")
            page.get_by_role("link", name="Published Results Square").wait_for()
            screenshot(page, "public-index")
            page.goto(f"{serve_url}/public/deployments/{upcoming}")
            text = page.inner_text("main")
            assert "live facial recognition in use" in text and "deletes it at once" in text
            assert "Results" not in text, "no results before the window"
            screenshot(page, "public-notice")
            page.goto(f"{serve_url}/public/deployments/{closed}")
            results = page.locator("#results + table")
            assert "Arrests\t1" in results.inner_text() and "True alerts, confirmed\t1" in results.inner_text()
            assert not any(s in page.content() for s in SUBJECTS)
            screenshot(page, "public-results")
        finally:
            browser.close()
    for kind in ("sign", "leaflet"):
        pdf = httpx.get(f"{serve_url}/public/deployments/{upcoming}/notice.pdf", params={"format": kind}, timeout=30)
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
    assert httpx.get(f"{serve_url}/public/deployments/{upcoming}/notice.pdf", params={"format": "poster"},
                     timeout=10).status_code == 422
    assert httpx.get(f"{serve_url}/public/deployments/{upcoming}/results", timeout=10).status_code == 409
    published = httpx.get(f"{serve_url}/public/deployments/{closed}/results", timeout=10).json()
    assert published["arrests"] == 1 and published["reconciled_with_audit_log"] is True
    assert httpx.get(f"{serve_url}/public/deployments/{uuid.uuid4()}", timeout=10).status_code == 404


def test_two_officers_verify_an_alert_each_alone_under_the_ai_act(serve_url, services):
    """Issue 28 item 2 (Art 14(5)) against the running ingress and PostgreSQL, where the stand-in tests
    (test_console_two_person.py) cannot reach: the first officer's decision leaves the alert awaiting a second
    verifier, with no outcome to record; the second, in their own session, sees it pending with no trace of the
    first assessment and no "not engaged" shortcut; once they confirm, both names show, the outcome can be
    recorded, and the row holds both verifiers."""
    from playwright.sync_api import sync_playwright

    from tests.security.conftest import a_deployment, a_version, superuser
    from tests.security.test_adjudication_transitions import an_alert
    from tests.security.test_two_person_verification import under_pack

    first, second = OPERATOR.name, "ivy.operator"
    dep = under_pack(services, a_deployment(services, status="live", length_s=4 * 3600, operators=(first, second)), "eu-ai-act",
                     "art5_1_h_iii")
    alert_id = an_alert(services, dep, a_version(services, dep, "active"))

    def opened(browser, who: str):
        page = browser.new_page(viewport={"width": 1366, "height": 900})  # a context, and a session, of its own
        _sign_in(page, serve_url, who)
        page.wait_for_selector(f"#dep option[value='{dep}']", state="attached")
        page.select_option("#dep", dep)
        page.fill("#why", WHY)
        page.click("#open")
        page.wait_for_selector("#live:has-text('live')")
        card = page.locator(f"article[data-alert='{alert_id}']")
        card.wait_for(timeout=30_000)
        return page, card

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page, card = opened(browser, first)
            card.get_by_role("button", name="Confirm match").click()
            page.click("#decide-ok")
            card.locator(".verification:has-text('Awaiting second verifier')").wait_for()
            assert card.get_by_role("button", name="Record outcome").count() == 0 and card.locator("select").count() == 0

            other, theirs = opened(browser, second)
            text = theirs.inner_text()
            assert "awaiting second verifier" in text and "Awaiting your decision" in text
            assert first not in text, "the second verifier decides without seeing the first assessment"
            assert theirs.get_by_role("button", name="Not engaged").count() == 0
            screenshot(other, "console-second-verifier")
            theirs.get_by_role("button", name="Confirm match").click()
            other.click("#decide-ok")
            theirs.locator(f".verification:has-text('Verified by {first} (viable) and {second} (viable)')").wait_for()
            assert theirs.get_by_role("button", name="Record outcome").count() == 1
            screenshot(other, "console-verified")
        finally:
            browser.close()
    with superuser(services) as admin:
        row = admin.execute("SELECT status, adjudicated_by, second_status, second_by FROM alerts WHERE id = %s",
                            (alert_id,)).fetchone()
    assert row == {"status": "confirmed", "adjudicated_by": first, "second_status": "confirmed", "second_by": second}
