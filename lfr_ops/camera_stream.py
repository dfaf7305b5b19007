"""A live camera read at its newest frame, for `lfr feed`.

A camera sends frames at its own rate (25 a second is common) whether or not anyone keeps up. Reading one
frame each time the feed sends one (5 a second) takes the oldest frame still queued, so the feed falls behind
by 0.8 s every second and never catches up. Here a thread reads the stream without pause: OpenCV decodes
every frame (an H.264 decoder cannot skip one), and only the frame the sender asks for is converted to an
image, the first one to arrive after it asked. Each frame is stamped with the time the camera captured it
(`StreamClock`), which the live service receives as the frame's capture time and the console shows alerts
by. A dropped stream is opened again with bounded retries and backoff, and its reader starts afresh: a new
clock, and no frame handed out until it reads live frames again.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from lfr_core.errors import InvalidInput

OPEN_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 5.0  # a stream that delivers nothing for this long has dropped: it is opened again
# A stream whose timestamps do not advance for this long has none worth using (some sources give 0 for all).
STUCK_S = 1.0
# OpenCV reads about a second of frames while it opens an RTSP stream, and hands them out as fast as they
# decode. Frames count as live once a grab had to wait for the network (a third of a frame interval) while
# the stream's time kept pace with the wall clock; a reader that never waits (a decoder slower than the
# camera) hands frames out after this long anyway, as fresh as it can get them.
LIVE_AFTER_S = 3.0


@dataclass(frozen=True)
class Captured:
    image: np.ndarray
    captured_at: float  # epoch seconds: when the camera took the frame (StreamClock)
    grabbed_at: float  # epoch seconds: when this reader had it
    number: int  # frames read from the camera so far, this one included (taken or not)


class StreamClock:
    """Capture times of a stream's frames on the wall clock (epoch seconds).

    A stream's timestamps (OpenCV's CAP_PROP_POS_MSEC, from the stream's first frame) are exact between
    frames but start from nothing the wall clock knows; the time a frame is grabbed is on the wall clock, but
    late by the transport's latency, and much later for a frame read from a backlog. The offset between the two
    is the smallest (grab time - stream time) over the last `window_s`: that of the frame that arrived
    soonest, so a backlog or a burst after a stall does not move it, and a camera clock that drifts from ours
    is followed. A capture time is then stream time + offset: late by the least latency seen (encoding,
    network and decoding; 80 ms against the test camera of lfr_ops/rtsp_camera.py) and never after its grab.
    Without usable timestamps (none, stuck, or going back: a new stream) it is the grab time."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self.reset()

    def reset(self) -> None:
        self._window: deque[tuple[float, float]] = deque()  # (grabbed at, offset), offsets increasing
        self._last_ms: float | None = None
        self._advanced_at = 0.0

    @property
    def offset(self) -> float | None:
        return self._window[0][1] if self._window else None

    def stamp(self, stream_ms: float | None, grabbed_at: float) -> float:
        if stream_ms is None or not math.isfinite(stream_ms) or stream_ms < 0:
            self.reset()
            return grabbed_at
        if self._last_ms is not None and stream_ms < self._last_ms:  # a new timeline: a reconnect or a wrap
            self.reset()
        if self._last_ms is not None and stream_ms == self._last_ms:
            if grabbed_at - self._advanced_at > STUCK_S or self.offset is None:
                return grabbed_at
            return min(grabbed_at, stream_ms / 1000 + self.offset)  # a repeated time (OpenCV's first two are 0)
        self._last_ms, self._advanced_at = stream_ms, grabbed_at
        candidate = grabbed_at - stream_ms / 1000
        while self._window and self._window[-1][1] >= candidate:
            self._window.pop()
        self._window.append((grabbed_at, candidate))
        while self._window[0][0] < grabbed_at - self.window_s:
            self._window.popleft()
        return stream_ms / 1000 + self._window[0][1]


def open_capture(source: str) -> Any:
    """OpenCV's capture of a stream, with timeouts so that a stream that stalls counts as dropped."""
    return cv2.VideoCapture(source, cv2.CAP_ANY, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(OPEN_TIMEOUT_S * 1000),
                                                 cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(READ_TIMEOUT_S * 1000)])


class NewestFrame:
    """Reads a stream on a thread of its own; `take()` returns the next frame to arrive, converted then.

    `open_capture(source)` returns an object with OpenCV's VideoCapture methods (isOpened, grab, retrieve,
    get, release); tests pass a stand-in."""

    def __init__(self, source: str, *, retries: int = 5, backoff_s: float = 0.5,
                 open_capture: Callable[[str], Any] = open_capture,
                 on_reconnect: Callable[[], None] | None = None) -> None:
        self.source, self.retries, self.backoff_s = source, retries, backoff_s
        self._open, self._on_reconnect = open_capture, on_reconnect
        self.grabbed = 0  # frames read from the camera, over every connection
        self.reconnects = 0
        self.failure: str | None = None  # why the reader stopped for good
        self._cond = threading.Condition()
        self._wanted = False
        self._newest: Captured | None = None
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"camera {source}", daemon=True)

    def start(self) -> NewestFrame:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        with self._cond:
            self._cond.notify_all()
        # A grab in progress ends within a frame (or the read timeout, when the stream has stalled); the thread
        # is a daemon and releases its capture when it stops.
        self._thread.join(timeout=1.0)

    def take(self, after: int = 0) -> Captured:
        """The first frame to arrive after this call, numbered above `after`; raises InvalidInput when the
        stream is gone for good."""
        with self._cond:
            self._wanted = True
            while True:
                got = self._newest
                if got is not None and got.number > after:
                    self._newest, self._wanted = None, False
                    return got
                if self.failure is not None:
                    raise InvalidInput(self.failure)
                if self._closed.is_set():
                    raise InvalidInput(f"the reader of {self.source} was closed")
                self._newest = None  # older than asked for
                self._cond.wait(0.5)

    def _stop(self, reason: str) -> None:
        with self._cond:
            self.failure = reason
            self._cond.notify_all()

    def _backoff(self, attempt: int) -> None:
        self.reconnects += 1
        if self._on_reconnect:
            self._on_reconnect()
        self._closed.wait(min(self.backoff_s * 2 ** (attempt - 1), 30.0))

    def _run(self) -> None:
        attempt = 0
        while not self._closed.is_set():
            cap = self._open(self.source)
            if not cap.isOpened():
                cap.release()
                if attempt >= self.retries:
                    self._stop(f"cannot open {self.source} after {attempt} retries")
                    return
                attempt += 1
                self._backoff(attempt)
                continue
            attempt = 0
            try:
                self._read(cap)
            finally:
                cap.release()
            if self._closed.is_set():
                return
            if attempt >= self.retries:
                self._stop(f"stream {self.source} dropped and did not come back after {self.retries} retries")
                return
            attempt += 1
            self._backoff(attempt)

    def _read(self, cap: Any) -> None:
        """Frames of one connection, until the stream drops or the reader is closed."""
        clock = StreamClock()
        fps = cap.get(cv2.CAP_PROP_FPS)
        interval = 1.0 / fps if fps and 1.0 <= fps <= 240.0 else 0.04
        live, first_at, last_arrival = False, None, None
        while not self._closed.is_set():
            t0 = time.perf_counter()
            if not cap.grab():
                return
            waited = time.perf_counter() - t0
            grabbed_at = time.time()
            first_at = first_at or grabbed_at
            self.grabbed += 1
            stream_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            captured_at = clock.stamp(stream_ms, grabbed_at)
            if not live:
                # A frame read from the backlog arrives sooner, on the stream's clock, than the one before it.
                arrival = grabbed_at - stream_ms / 1000 if stream_ms and math.isfinite(stream_ms) else None
                keeping_pace = arrival is None or last_arrival is None or last_arrival - arrival < interval / 3
                live = (waited >= interval / 3 and keeping_pace) or grabbed_at - first_at >= LIVE_AFTER_S
                last_arrival = arrival
            if not (live and self._wanted):
                continue
            ok, image = cap.retrieve()
            if ok and image is not None:
                with self._cond:
                    self._newest = Captured(image, captured_at, grabbed_at, self.grabbed)
                    self._cond.notify_all()
