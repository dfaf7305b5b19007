"""The console shows how old a frame was when it was matched (issue 31 item 7): from the capture time the camera
sent (`lfr feed` stamps a live camera's frames with the time it captured them) to the alert. The page alone, served
by a stand-in with no API behind it, renders an alert record as the alert stream delivers it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from ray_apps.ingress.console import CONSOLE_HTML
from tests.browser import launch, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture()
def console_url() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body, status = (CONSOLE_HTML.encode(), 200) if self.path == "/console" else (b"{}", 404)
            self.send_response(status)
            self.send_header("Content-Type", "text/html" if status == 200 else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/console"
    finally:
        server.shutdown()
        server.server_close()


def alert(captured_at: str, raised_at: str) -> dict:
    return {"id": f"a-{raised_at}", "deployment_id": "d", "version_id": "v", "subject_ref": "S-1",
            "category": "wanted_on_warrant", "rationale": "W-1", "score": 0.61, "camera_id": "cam-1", "track_id": "t",
            "captured_at": captured_at, "raised_at": raised_at, "status": "pending", "adjudicated_by": None,
            "adjudicated_at": None, "note": None, "undo_until": None, "engagement": None, "engagement_by": None,
            "probe_crop_url": "/nowhere", "watchlist_image_url": None}


def test_an_alert_card_shows_the_frame_age_when_matched(console_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page()
            page.goto(console_url)
            page.evaluate("list => render(list)", [alert("2026-05-12T07:34:34.100Z", "2026-05-12T07:34:34.400Z"),
                                                   alert("2026-05-12T07:40:00Z", "2026-05-12T07:42:05Z")])
            ages = page.locator("article.alert dt:text-is('Frame age when matched') + dd").all_inner_texts()
        finally:
            browser.close()
    assert sorted(ages) == ["0.3 s", "125.0 s"]
