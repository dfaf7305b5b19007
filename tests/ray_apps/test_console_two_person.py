"""The console's two-verifier flow (issue 28 item 2) in Chromium, against the stand-in officer API: the second
verifier sees the alert pending, "awaiting second verifier", with no trace of the first assessment, and may only
judge it viable or not (no "not engaged" shortcut, no outcome); once they decide, both names show and the outcome
can be recorded. The first officer sees theirs awaiting the second verifier, with no outcome to record yet."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.browser import launch, needs_chromium, screenshot
from tests.ray_apps.console_standin import Officer, alert, serve, signed_in

pytestmark = [pytest.mark.browser, needs_chromium]
FIRST = "pc.first"  # the stand-in signs in pc.ada: the second verifier

# As the ingress answers the second verifier before their decision (lfr_core/alerts/service.py as_seen_by).
HIDDEN = alert("pending", verification="awaiting second verifier")
VERIFIED = alert("confirmed", adjudicated_by=FIRST, verification="verified", second_status="confirmed",
                 second_by="pc.ada", second_at=datetime.now(UTC).isoformat())


class SecondVerifier(Officer):
    """The stand-in, answering the decision as the ingress does once the second verifier has confirmed."""

    decided: list[str]

    def answer(self, path: str, body_in: Any = None) -> tuple[int, str, bytes]:
        if path.split("?")[0] == "/v1/alerts/a-1/adjudication":
            self.decided.append(path)
            self.alerts = [VERIFIED]
            return 200, "application/json", json.dumps(VERIFIED).encode()
        return super().answer(path, body_in)


def _card_text(officer: Officer, act: Any = None) -> tuple[str, list[str], list[str]]:
    from playwright.sync_api import sync_playwright

    with serve(officer) as url, sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            signed_in(page, url)
            card = page.locator("article.alert").first
            card.wait_for()
            if act:
                act(page, card)
            text = card.inner_text()
            buttons = card.locator("button").all_inner_texts()
            selects = card.locator("select").all_inner_texts()
            screenshot(page, "console-two-person")
        finally:
            browser.close()
    return text, buttons, selects


def test_the_second_verifier_decides_without_seeing_the_first_then_sees_both_names():
    officer = SecondVerifier(alerts=[HIDDEN])
    officer.decided = []
    text, buttons, _ = _card_text(officer)
    assert "awaiting second verifier" in text and "Awaiting your decision" in text
    assert FIRST not in text and "viable match" not in text
    assert [b for b in buttons if "Not engaged" in b] == [] and any("Confirm match" in b for b in buttons)

    def confirm(page, card):
        card.get_by_role("button", name="Confirm match").click()
        page.click("#decide-ok")
        page.wait_for_selector("article.alert .verification:has-text('Verified by')")

    officer.decided = []
    text, buttons, selects = _card_text(officer, confirm)
    assert officer.decided, "the decision was posted"
    assert f"Verified by {FIRST} (viable) and pc.ada (viable)" in text
    assert any("Record outcome" in b for b in buttons) and selects


def test_the_first_officer_waits_for_the_second_before_any_outcome():
    mine = alert("confirmed", adjudicated_by="pc.ada", verification="awaiting second verifier")
    text, buttons, selects = _card_text(Officer(alerts=[mine]))
    assert "Awaiting second verifier" in text
    assert not any("Record outcome" in b for b in buttons) and not selects
