"""The console on a phone, a tablet and a desktop (issue 31 item 8), in Chromium against the stand-in officer API:
no sideways scroll at 390 px (the deployment picker was 520 px wide), every control at least 44 px each way, Undo
on a row of its own away from the next action, every control and the zoom reached with Tab and shown with a focus
ring, and a camera tile that says when its last frame is stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser import launch, needs_chromium, screenshot
from tests.ray_apps.console_standin import Officer, alert, serve, signed_in

pytestmark = [pytest.mark.browser, needs_chromium]

CONTROLS = "button, select, input, textarea, a[href]"
VISIBLE = f"[...document.querySelectorAll('{CONTROLS}')].filter(e => e.offsetParent && !e.closest('dialog'))"


def officer_with_an_undo() -> Officer:
    officer = Officer()
    undo_until = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    officer.alerts = [alert(), alert("confirmed", id="a-2", undo_until=undo_until)]
    return officer


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = launch(pw)
        try:
            yield chromium
        finally:
            chromium.close()


def opened(browser, url: str, width: int, alerts: int = 2):
    page = browser.new_page(viewport={"width": width, "height": 844})
    signed_in(page, url)
    page.wait_for_selector(f"article.alert >> nth={alerts - 1}")
    page.wait_for_selector(".tile")
    return page


@pytest.mark.parametrize("width", [390, 820, 1366])
def test_the_console_fits_the_screen_with_44_px_targets_and_undo_apart(browser, width):
    with serve(officer_with_an_undo()) as url:
        page = opened(browser, url, width)
        screenshot(page, f"console-{width}px")
        fit = page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        small = page.evaluate(f"""{VISIBLE}.map(e => [e.id || e.ariaLabel || e.textContent.trim().slice(0, 24),
            e.getBoundingClientRect().width, e.getBoundingClientRect().height]).filter(x => x[1] < 44 || x[2] < 44)""")
        gaps = page.evaluate("""() => {
            const undo = [...document.querySelectorAll('button')].find(b => b.textContent.startsWith('Undo'));
            const u = undo.getBoundingClientRect();
            return [...undo.closest('.facts').querySelectorAll('button, select')].filter(e => e !== undo)
              .map(e => { const r = e.getBoundingClientRect();
                          return Math.max(r.top - u.bottom, u.top - r.bottom, r.left - u.right, u.left - r.right); });
        }""")
        page.close()
    assert fit[0] <= fit[1], f"the page scrolls sideways at {width} px: {fit[0]} px wide"
    assert small == [], f"targets under 44 px at {width} px: {small}"
    assert gaps and min(gaps) >= 16, f"Undo sits {min(gaps)} px from the next action"


def test_every_control_and_the_zoom_are_reached_by_keyboard_with_a_focus_ring(browser):
    with serve(officer_with_an_undo()) as url:
        page = opened(browser, url, 390)
        wanted = page.evaluate(f"{VISIBLE}.length")
        reached, rings = set(), []
        page.focus("#dep")
        for _ in range(wanted + 5):
            key, ring = page.evaluate("""() => { const e = document.activeElement, s = getComputedStyle(e);
                return e === document.body ? [null, true] : [e.id || e.ariaLabel || e.textContent.trim().slice(0, 24),
                        s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2]; }""")
            if key is not None:  # past the last control, Tab leaves the page for the browser's own
                reached.add(key)
                rings.append((key, ring))
            page.keyboard.press("Tab")
        labels = page.evaluate(f"{VISIBLE}.map(e => e.id || e.ariaLabel || e.textContent.trim().slice(0, 24))")
        zoom = page.locator("button.zoom").first
        zoom.focus()
        page.keyboard.press("Enter")
        zoomed = page.locator("#zoom").evaluate("d => d.open")
        page.keyboard.press("Escape")
        closed = not page.locator("#zoom").evaluate("d => d.open")
        page.close()
    assert set(labels) <= reached, f"not reached with Tab: {set(labels) - reached}"
    assert all(ring for _, ring in rings), f"no focus ring on {[k for k, ring in rings if not ring]}"
    assert "Zoom: Camera (probe)" in reached and zoomed and closed


def test_a_camera_tile_warns_when_its_last_frame_is_stale(browser):
    officer = Officer()
    now = datetime.now(UTC)
    officer.tiles = [{"camera_id": cam, "frames": 33, "faces_seen": 5, "frames_refused": 0, "frames_dropped": 0,
                      "last_frame_at": (now - timedelta(seconds=age)).isoformat()}
                     for cam, age in (("cam-fresh", 2), ("cam-stopped", 45))]
    with serve(officer) as url:
        page = opened(browser, url, 390, alerts=1)
        page.wait_for_selector(".tile >> nth=1")
        tiles = {t.locator("b").inner_text(): t.inner_text() for t in page.locator(".tile").all()}
        page.close()
    assert "No frame for" not in tiles["cam-fresh"]
    assert "No frame for 4" in tiles["cam-stopped"] and "check the camera" in tiles["cam-stopped"]


def test_a_camera_tile_shows_the_frames_the_camera_did_not_send(browser):
    # The tile said "0 dropped" when the feed had not sent 13 of 33 frames: only the service's drops were counted.
    officer = Officer()
    officer.tiles = [{"camera_id": "cam-north", "frames": 20, "faces_seen": 5, "frames_refused": 0,
                      "frames_dropped": 0, "frames_not_sent": 13,
                      "last_frame_at": datetime.now(UTC).isoformat()}]
    with serve(officer) as url:
        page = opened(browser, url, 390, alerts=1)
        tile = page.locator(".tile").inner_text()
        page.close()
    assert "13 of 33 frames lost (13 not sent by the camera, 0 dropped here), 0 refused" in tile
