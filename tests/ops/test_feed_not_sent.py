"""`lfr feed` tells the service what the camera lost itself (issue 31 item 8): the frames it read and did not send
because the service was behind, as a running total with each posted frame and on the stream before the next frame,
so the console's tile can show them (it said "0 dropped" when the feed had not sent 13 of 33)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from lfr_core.live.wire import NOT_SENT_HEADER
from lfr_ops.feed import Feed

DEP = "3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c"
ANSWER = {"status": 200, "faces": 0, "alerts": []}
SLOW_S = 0.25  # the service answers a frame in this long; the feed sends at 20 frames/s, one in flight


@pytest.fixture()
def folder(tmp_path: Path) -> str:
    for i in range(30):
        cv2.imwrite(str(tmp_path / f"{i:03d}.jpg"), np.full((48, 64, 3), i * 8, np.uint8))
    return str(tmp_path)


@contextmanager
def slow_stream() -> Iterator[tuple[str, list]]:
    """The frame stream, answering each frame late; it keeps each message's kind in order."""
    from websockets.sync.server import serve

    seen: list = []

    def handler(ws) -> None:
        for message in ws:
            if isinstance(message, str):
                seen.append(("not_sent", json.loads(message)["not_sent"]))
                continue
            seen.append(("frame", None))
            time.sleep(SLOW_S)
            ws.send(json.dumps(ANSWER))

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.socket.getsockname()[1]}", seen
        server.shutdown()


@contextmanager
def slow_posts() -> Iterator[tuple[str, list]]:
    reported: list = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            self.rfile.read(int(self.headers["Content-Length"]))
            reported.append(self.headers.get(NOT_SENT_HEADER))
            time.sleep(SLOW_S)
            body = json.dumps({k: v for k, v in ANSWER.items() if k != "status"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", reported
    finally:
        server.shutdown()
        server.server_close()


def test_the_stream_reports_the_running_total_before_the_next_frame_and_at_the_end(folder):
    with slow_stream() as (url, seen):
        stats = Feed(url, DEP, "key", fps=20, max_inflight=1).run(folder)
        time.sleep(0.3)
    frames = sum(1 for kind, _ in seen if kind == "frame")
    totals = [n for kind, n in seen if kind == "not_sent"]
    assert stats.not_sent > 5 and frames + stats.not_sent == stats.read == 30
    assert totals == sorted(totals) and totals[-1] == stats.not_sent, totals
    # Each report before a frame says what was lost before that frame was sent.
    assert seen[0] == ("frame", None) and seen[1][0] == "not_sent"


def test_a_posted_frame_carries_the_running_total(folder):
    with slow_posts() as (url, reported):
        stats = Feed(url, DEP, "key", fps=20, max_inflight=1, transport="http").run(folder)
    totals = [int(n) for n in reported]
    assert stats.not_sent > 5 and len(totals) + stats.not_sent == stats.read == 30
    assert totals[0] == 0 and totals == sorted(totals) and totals[-1] > 0
