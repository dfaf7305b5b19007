"""The console shows times as a UK officer reads them (issue 31 item 8): the force's zone, day first, a 24-hour
clock and the zone named, "05/12/2026 07:34:34 GMT", where it showed the browser's "12/5/2026, 7:34:34 AM".
Chromium with a US locale and a New York clock, against the stand-in officer API."""

from __future__ import annotations

import pytest

from tests.browser import launch, needs_chromium
from tests.ray_apps.console_standin import Officer, serve, signed_in

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.mark.parametrize(("zone", "seen", "window"), [
    ("Europe/London", "05/12/2026 07:34:34 GMT", "05/12/2026 07:30:00 GMT"),
    ("Europe/Paris", "05/12/2026 08:34:34 CET", "05/12/2026 08:30:00 CET"),
])
def test_times_read_in_the_force_zone_whatever_the_browser_says(zone, seen, window):
    from playwright.sync_api import sync_playwright

    with serve(Officer(time_zone=zone)) as url, sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_context(locale="en-US", timezone_id="America/New_York").new_page()
            signed_in(page, url)
            page.wait_for_selector("article.alert")
            shown = page.inner_text("article.alert dt:text-is('Seen') + dd")
            option = page.inner_text("#dep option")
            summer = page.evaluate("when('2026-05-12T13:04:05Z')")
        finally:
            browser.close()
    assert shown == seen
    assert window in option
    assert summer == ("12/05/2026 14:04:05 BST" if zone == "Europe/London" else "12/05/2026 15:04:05 CEST")
