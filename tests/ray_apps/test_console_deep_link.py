"""A deep link to a deployment the officer is not assigned to says so (issue 31 item 8): the console opened
their last deployment instead, or nothing, without a word. Chromium against the stand-in officer API."""

from __future__ import annotations

import pytest

from tests.browser import launch, needs_chromium
from tests.ray_apps.console_standin import DEP, OTHER, Officer, serve, signed_in

pytestmark = [pytest.mark.browser, needs_chromium]


def test_a_link_to_a_deployment_not_assigned_says_so_and_opens_nothing():
    from playwright.sync_api import sync_playwright

    with serve(Officer()) as url, sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page()
            signed_in(page, url, f"?deployment={OTHER}")
            page.wait_for_selector("#msg:has-text('not assigned')")
            msg = page.inner_text("#msg")
            work_hidden = page.locator("#work").is_hidden()
            signed_in(page, url, f"?deployment={DEP}")
            page.wait_for_selector("article.alert")
            mine = page.inner_text("#msg")
        finally:
            browser.close()
    assert f"You are not assigned to deployment {OTHER}" in msg and work_hidden
    assert "not assigned" not in mine
