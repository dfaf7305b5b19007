"""The console page alone, served by a stand-in for the ingress's officer API (no Ray, no database): a signed-in
officer, the deployments they are assigned to, one alert pushed on the stream, the dashboard and the camera tiles,
the reviews assigned to them, each as the real routes answer them. For tests that look at what the console shows and how it lays it out."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ray_apps.ingress.console import console_page

DEP = "3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c"
OTHER = "0d9e8f7a-6b5c-4d3e-8f1a-2b3c4d5e6f70"
TOKEN = "stand-in-token"


def alert(status: str = "pending", **change: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"id": "a-1", "deployment_id": DEP, "version_id": "v", "subject_ref": "S-0001",
            "category": "wanted_on_warrant", "rationale": "W-1", "score": 0.61, "camera_id": "cam-north",
            "track_id": "t", "captured_at": "2026-12-05T07:34:34Z", "raised_at": "2026-12-05T07:34:34.300Z",
            "status": status, "adjudicated_by": None, "adjudicated_at": None, "note": None, "undo_until": None,
            "engagement": None, "engagement_by": None, "probe_crop_url": None, "watchlist_image_url": None,
            **({"adjudicated_by": "pc.ada", "adjudicated_at": now.isoformat()} if status != "pending" else {}),
            **change}


@dataclass
class Officer:
    """What the stand-in answers; a test changes it before the page asks."""

    time_zone: str = "Europe/London"
    deployments: list[dict[str, Any]] = field(default_factory=lambda: [
        {"id": DEP, "place": "Westfield Stratford City, main concourse by the north entrance",
         "window_start": "2026-12-05T07:30:00Z", "window_end": "2026-12-05T09:30:00Z", "status": "live"}])
    alerts: list[dict[str, Any]] = field(default_factory=lambda: [alert()])
    tiles: list[dict[str, Any]] = field(default_factory=list)
    dashboard: dict[str, Any] = field(default_factory=dict)  # fields that replace the stand-in dashboard's
    reviews: list[dict[str, Any]] = field(default_factory=list)
    posted: list[tuple[str, Any]] = field(default_factory=list)  # (path, JSON body) of each POST, in order

    def answer(self, path: str, body_in: Any = None) -> tuple[int, str, bytes]:
        route = path.split("?")[0]
        if route == "/console":
            return 200, "text/html", console_page(self.time_zone).encode()
        now = datetime.now(UTC)
        body: Any
        if route == "/v1/me":
            body = {"name": "pc.ada", "roles": ["operator"]}
        elif route == "/v1/me/deployments":
            body = self.deployments
        elif route == f"/v1/deployments/{DEP}/alerts/stream":
            return 200, "text/event-stream", f"event: alerts\ndata: {json.dumps(self.alerts)}\n\n".encode()
        elif route == f"/v1/deployments/{DEP}/dashboard":
            body = {"deployment_id": DEP, "place": "P", "status": "live", "window_start": "2026-12-05T07:30:00Z",
                    "window_end": "2026-12-05T09:30:00Z", "seconds_to_start": 0, "seconds_to_end": 3600,
                    "version": 1, "threshold": 0.36, "watchlist_size": 12, "faces_seen": 1234, "alerts": 1,
                    "pending": 1, "true_alerts": 0, "false_alerts": 0, "not_engaged": 0,
                    "engagement_outcomes": {"arrest": 0}, "false_alerts_per_face": 0.0,
                    "projected_false_alerts_per_face": 0.0001, "projection_source": "x", "live_gate": None,
                    "camera_ranges": [], **self.dashboard}
        elif route == "/v1/me/reviews":
            body = self.reviews
        elif route.startswith("/v1/alerts/") and route.endswith("/review") and body_in is not None:
            alert_id = route.split("/")[3]
            (review,) = [r for r in self.reviews if r["alert_id"] == alert_id]
            body = {**review, "finding": body_in["finding"], "reviewer": "pc.ada", "reviewed_at": now.isoformat()}
        elif route == f"/v1/deployments/{DEP}/cameras":
            body = self.tiles or [
                {"camera_id": "cam-north", "frames": 33, "faces_seen": 20, "frames_refused": 0, "frames_dropped": 0,
                 "last_frame_at": (now - timedelta(seconds=2)).isoformat()}]
        else:
            return 404, "application/json", json.dumps({"detail": f"nothing at {route}"}).encode()
        return 200, "application/json", json.dumps(body).encode()


@contextmanager
def serve(officer: Officer) -> Iterator[str]:
    """The stand-in on a free local port; yields the console's address."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            status, kind, body = officer.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw) if raw else None
            officer.posted.append((self.path, body))
            status, kind, answer = officer.answer(self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/console"
    finally:
        server.shutdown()
        server.server_close()


def signed_in(page: Any, url: str, query: str = "", why: str = "adjudicating alerts") -> None:
    """The console opened as a signed-in officer (the token and reason as the page keeps them in the tab)."""
    page.goto(url)
    page.evaluate("([t, w]) => { sessionStorage.setItem('lfr-token', t); sessionStorage.setItem('lfr-why', w); }",
                  [TOKEN, why])
    page.goto(url + query)
    page.wait_for_selector("#who:has-text('Signed in as')")
