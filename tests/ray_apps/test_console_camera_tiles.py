"""A camera's tile says how many of its faces could have been recognised and warns "camera too far or too wide" when
most were narrower than the reliable size (issue 32 item 4). The tiles are what the cameras route answers: counters
rows through lfr_core/reporting/officer_view.py camera_tile and the route's CameraTile. Chromium against the
stand-in officer API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.reporting.officer_view import camera_tile
from ray_apps.ingress.contract import CameraTile
from tests.browser import launch, needs_chromium, screenshot
from tests.ray_apps.console_standin import Officer, serve, signed_in

pytestmark = [pytest.mark.browser, needs_chromium]


def tile(camera: str, refused_small: int, refused_other: int, below: int, reliable: int) -> dict:
    row = {"camera_id": camera, "frames": 400, "faces_seen": refused_small + refused_other + below + reliable,
           "frames_refused": 0, "frames_dropped": 0, "faces_refused_small": refused_small,
           "faces_refused_other": refused_other, "faces_below_reliable": below, "faces_reliable": reliable,
           "reliable_face_px": 48, "last_frame_at": datetime.now(UTC) - timedelta(seconds=1)}
    return CameraTile(**camera_tile(row)).model_dump(mode="json")


def test_a_camera_whose_faces_are_mostly_too_small_is_flagged_and_the_others_are_not():
    from playwright.sync_api import sync_playwright

    officer = Officer(tiles=[tile("cam-far", 30, 2, 14, 10), tile("cam-near", 5, 3, 12, 80)])
    with serve(officer) as url, sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            signed_in(page, url)
            page.wait_for_selector(".tile:has-text('cam-near')")
            far = page.inner_text(".tile:has-text('cam-far')")
            near = page.inner_text(".tile:has-text('cam-near')")
            flagged = page.eval_on_selector_all(".tile.far", "ts => ts.map(t => t.querySelector('b').textContent)")
            screenshot(page, "console-camera-tiles")
        finally:
            browser.close()
    assert "10 of 56 faces recognisable" in far
    assert "camera too far or too wide: 44 of 56 faces narrower than 48 px, the reliable size" in far
    assert "80 of 100 faces recognisable" in near and "too far" not in near
    assert flagged == ["cam-far"]
