"""The camera side of `lfr feed`: read frames with OpenCV (a video file, an RTSP/HTTP stream or a folder of
images), send them as JPEG at a target rate over one WebSocket per camera (or one POST each), drop frames
when the service is behind (bounded frames in flight), and reconnect a dropped source with bounded retries
and backoff. Nothing here keeps a frame.

A file or folder is read at the pace of the sends, every frame it has (a file's sampled to `fps` of its
video time), each sent with the time it is sent as its capture time. A stream is read without pause at its
own rate on a thread of its own (lfr_ops/camera_stream.py), and each send takes the newest frame, sent with
the time the camera captured it: the feed never falls behind a camera that sends faster than `fps`.

A 503 the ingress sends because this camera has too many frames in progress says so (`backpressure`): such
a frame is only dropped. Any other 503, a stream refused with 503 and a live API that cannot be reached mean
a service is unavailable, which `lfr feed` reports with exit code 4."""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

from lfr_core.errors import InvalidInput, LfrError, NotFound, Refused, Service, Unavailable
from lfr_core.live.wire import (
    CAMERA_ID_HEADER,
    CAMERA_KEY_HEADER,
    CAPTURE_TIME_HEADER,
    NOT_SENT_FIELD,
    NOT_SENT_HEADER,
    STREAM_TIME,
)
from lfr_ops.camera_stream import NewestFrame

ROUTING_HEADER = "serve_multiplexed_model_id"  # ray_apps/ingress/routing.py
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
FATAL = {401: "the API key is missing or unknown", 403: "the API key may not post to this deployment",
         404: "no such deployment", 409: "refused by the deployment's rules"}
BACKPRESSURE = "backpressure"  # the ingress's mark on a 503 that only drops a frame (ray_apps/ingress/live.py)
UNAVAILABLE = 503


def feed_error(message: str, status: int | None = None) -> LfrError:
    """Why the feed cannot go on, as the kind of error it is: a source that does not open or a bad option (no
    status), or what the live API answered: a key it refuses is bad input, a deployment it does not know is
    not found, a refusal by the deployment's rules is refused, and anything else means it is unavailable."""
    if status is None or status in (401, 403):
        return InvalidInput(message)
    if status == 404:
        return NotFound(message)
    if status == 409:
        return Refused(message)
    return Unavailable(message, service=Service.LIVE_API)


@dataclass
class FeedStats:
    read: int = 0
    sent: int = 0
    ok: int = 0
    dropped: int = 0  # not sent because too many requests were in flight, or dropped by the server (503)
    not_sent: int = 0  # of those, not sent (too many in flight): reported to the service with each frame
    unavailable: Counter[str] = field(default_factory=Counter)  # of those, refused by an outage: reason -> frames
    failed: int = 0  # transport errors and other non-200 answers
    faces: int = 0
    alerts: int = 0
    reconnects: int = 0
    grabbed: int = 0  # frames a stream delivered (read, decoded; most of them not sent)
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    # Of a stream's frames sent: how long before its sending the camera captured each (files have none).
    frame_ages_ms: list[float] = field(default_factory=list, repr=False)
    elapsed_s: float = 0.0

    @property
    def last_frame_age_s(self) -> float | None:
        return self.frame_ages_ms[-1] / 1000 if self.frame_ages_ms else None

    def summary(self) -> dict[str, Any]:
        lat = np.asarray(self.latencies_ms) if self.latencies_ms else None
        return {"frames_read": self.read, "frames_sent": self.sent, "frames_ok": self.ok, "dropped": self.dropped,
                "refused_unavailable": sum(self.unavailable.values()), "unavailable": dict(self.unavailable),
                "failed": self.failed, "faces": self.faces, "alerts": self.alerts, "reconnects": self.reconnects,
                "elapsed_s": round(self.elapsed_s, 2),
                "fps": round(self.ok / self.elapsed_s, 2) if self.elapsed_s else 0.0,
                "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat is not None else None,
                "p95_ms": round(float(np.percentile(lat, 95)), 1) if lat is not None else None,
                "frames_grabbed": self.grabbed,
                "frame_age_p50_ms": round(float(np.median(self.frame_ages_ms)), 1) if self.frame_ages_ms else None,
                "frame_age_max_ms": round(max(self.frame_ages_ms), 1) if self.frame_ages_ms else None}


def is_stream(source: str) -> bool:
    return "://" in source


def _folder_frames(folder: Path, loop: bool) -> Iterator[np.ndarray]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise feed_error(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {folder}")
    while True:
        for path in files:
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if frame is not None:
                yield frame
        if not loop:
            return


def _video_frames(source: str, fps: float, loop: bool) -> Iterator[np.ndarray]:
    """Frames of a video file sampled to `fps` of its video time."""
    while True:
        cap = cv2.VideoCapture(source)
        if not cap.isOpened():
            cap.release()
            raise feed_error(f"cannot open {source}")
        step = max(1.0, (cap.get(cv2.CAP_PROP_FPS) or fps) / fps)
        position, next_pick = 0, 0.0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if position >= next_pick:
                next_pick += step
                yield frame
            position += 1
        cap.release()
        if not loop:
            return


def _stream_frames(source: str, retries: int, backoff_s: float,
                   stats: FeedStats) -> Iterator[tuple[np.ndarray, float | None]]:
    """Each time one is asked for, the stream's next frame to arrive, with its capture time; the stream is
    read without pause meanwhile (camera_stream.NewestFrame), and opened again when it drops."""
    def reconnected() -> None:
        stats.reconnects += 1

    reader = NewestFrame(source, retries=retries, backoff_s=backoff_s, on_reconnect=reconnected).start()
    try:
        number = 0
        while True:
            try:
                got = reader.take(after=number)
            except InvalidInput as e:
                raise feed_error(str(e)) from e
            number, stats.grabbed = got.number, reader.grabbed
            yield got.image, got.captured_at
    finally:
        reader.close()


def captures(source: str, fps: float, *, loop: bool = False, retries: int = 5, backoff_s: float = 0.5,
             stats: FeedStats | None = None) -> Iterator[tuple[np.ndarray, float | None]]:
    """(frame, capture time in epoch seconds) of a stream, (frame, None) of a file or folder, read when
    asked for: a file's next frame, a stream's newest."""
    stats = stats if stats is not None else FeedStats()
    path = Path(source)
    if is_stream(source):
        return _stream_frames(source, retries, backoff_s, stats)
    if path.is_dir():
        return ((frame, None) for frame in _folder_frames(path, loop))
    if not path.is_file():
        raise feed_error(f"{source} is neither a file, a folder of images nor a stream URL")
    return ((frame, None) for frame in _video_frames(source, fps, loop))


def frames(source: str, fps: float, *, loop: bool = False, retries: int = 5, backoff_s: float = 0.5,
           stats: FeedStats | None = None) -> Iterator[np.ndarray]:
    """The frames of `captures`, without their capture times."""
    return (frame for frame, _ in captures(source, fps, loop=loop, retries=retries, backoff_s=backoff_s,
                                           stats=stats))


def frame_count(source: str, fps: float) -> int | None:
    """Frames the feed will send from a file or folder (None for streams)."""
    path = Path(source)
    if is_stream(source):
        return None
    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    cap = cv2.VideoCapture(source)
    total, src_fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS) or fps
    cap.release()
    return int(np.ceil(total / max(1.0, src_fps / fps))) if total > 0 else None


class Feed:
    """Sends frames of one camera at `fps`, at most `max_inflight` unanswered at a time (more are dropped).

    `transport="stream"` (the default): one long-lived WebSocket per camera
    (`/v1/deployments/{id}/stream`), so a frame pays for no HTTP request of its own; answers come back in
    order. `transport="http"`: one POST per frame to `/v1/deployments/{id}/frames`."""

    def __init__(self, url: str, deployment_id: str, api_key: str, *, camera_id: str = "cam-1", fps: float = 5.0,
                 max_inflight: int = 2, jpeg_quality: int = 85, timeout_s: float = 10.0,
                 transport: str = "stream") -> None:
        if fps <= 0:
            raise feed_error("--fps must be above 0")
        if transport not in ("stream", "http"):
            raise feed_error(f"unknown transport {transport!r}; choose stream or http")
        base = self.base = url.rstrip("/")
        self.endpoint = f"{base}/v1/deployments/{deployment_id}/frames"
        self.stream_url = (base.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
                           + f"/v1/deployments/{deployment_id}/stream?camera={camera_id}")
        self.api_key, self.timeout_s, self.transport = api_key, timeout_s, transport
        # Serve's routing header names the camera, so its frames reach the ingress replica holding its tracks.
        self.route = {ROUTING_HEADER: camera_id}
        self.headers = {CAMERA_KEY_HEADER: api_key, CAMERA_ID_HEADER: camera_id, "Content-Type": "image/jpeg", **self.route}
        self.fps, self.max_inflight, self.jpeg_quality = fps, max_inflight, jpeg_quality
        self.client = httpx.Client(timeout=timeout_s, limits=httpx.Limits(max_connections=max_inflight + 1))
        self.stats = FeedStats()
        self._lock = threading.Lock()
        self._inflight = 0
        self._fatal: LfrError | None = None
        self._ws = None
        self._sent_at: deque[float] = deque()
        self._reported_not_sent = 0

    def _record(self, status: int, body: dict[str, Any], t0: float) -> None:
        """One answer, from either transport."""
        with self._lock:
            self._inflight -= 1
            if status == 200:
                self.stats.ok += 1
                self.stats.faces += body["faces"]
                self.stats.alerts += len(body["alerts"])
                self.stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
            elif status == UNAVAILABLE:
                self.stats.dropped += 1
                if not body.get(BACKPRESSURE):
                    self.stats.unavailable[str(body.get("detail") or f"the live API at {self.base} answered 503")] += 1
            elif status in FATAL:
                self._fatal = feed_error(f"{FATAL[status]} (HTTP {status}): {body.get('detail', '')}", status)
            else:
                self.stats.failed += 1

    def _post(self, jpeg: bytes, captured_at: float) -> None:
        t0 = time.perf_counter()
        when = datetime.fromtimestamp(captured_at, UTC).isoformat()
        try:
            r = self.client.post(self.endpoint, content=jpeg, headers={
                **self.headers, CAPTURE_TIME_HEADER: when, NOT_SENT_HEADER: str(self.stats.not_sent)})
        except httpx.HTTPError:
            with self._lock:
                self._inflight -= 1
                self.stats.failed += 1
            return
        json_body = r.headers.get("content-type", "").startswith("application/json")
        try:
            body = r.json() if json_body else {}
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if r.headers.get("x-lfr-backpressure"):
            body[BACKPRESSURE] = True
        self._record(r.status_code, body, t0)

    def _open_stream(self) -> None:
        from websockets.exceptions import InvalidHandshake, InvalidStatus
        from websockets.sync.client import connect

        try:
            self._ws = connect(self.stream_url, additional_headers={CAMERA_KEY_HEADER: self.api_key, **self.route},
                               open_timeout=self.timeout_s, max_size=2**20)
        except InvalidStatus as e:  # refused before the upgrade: by a proxy or gateway, or the service itself
            status = e.response.status_code
            if status in FATAL:
                raise feed_error(f"{FATAL[status]} (HTTP {status})", status) from e
            if status >= 500:
                raise feed_error(f"the live API at {self.base} is unavailable: the frame stream was refused with "
                                f"HTTP {status}", UNAVAILABLE) from e
            raise feed_error(f"could not open the frame stream at {self.stream_url} (HTTP {status})", status) from e
        except (OSError, TimeoutError) as e:  # nothing listening, or no answer in time
            raise feed_error(f"the live API at {self.base} is unavailable: could not open the frame stream "
                            f"({type(e).__name__}: {e})", UNAVAILABLE) from e
        except InvalidHandshake as e:
            raise feed_error(f"could not open the frame stream at {self.stream_url} ({e})") from e
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        """Answers, in the order the frames were sent; a refused stream closes with 4000 + the HTTP status."""
        import json

        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                answer = json.loads(self._ws.recv())
                t0 = self._sent_at.popleft()
                self._record(answer.pop("status"), answer, t0)
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            if code and 4000 <= code < 5000 and code - 4000 in FATAL:
                with self._lock:
                    self._fatal = feed_error(f"{FATAL[code - 4000]} (HTTP {code - 4000}): {e.rcvd.reason}", code - 4000)
            elif code == 4000 + UNAVAILABLE:
                with self._lock:
                    reason = (e.rcvd.reason if e.rcvd else "") or "a service behind it is unavailable"
                    self._fatal = feed_error(f"the live API at {self.base} closed the frame stream: {reason}",
                                            UNAVAILABLE)

    def _report_not_sent(self) -> None:
        """The camera's losses on the stream: its running total, when it changed (before the next frame)."""
        import json

        if self.stats.not_sent != self._reported_not_sent:
            self._ws.send(json.dumps({NOT_SENT_FIELD: self.stats.not_sent}))
            self._reported_not_sent = self.stats.not_sent

    def _stream(self, jpeg: bytes, captured_at: float) -> None:
        from websockets.exceptions import ConnectionClosed

        self._sent_at.append(time.perf_counter())
        try:
            self._report_not_sent()
            self._ws.send(STREAM_TIME.pack(captured_at) + jpeg)
        except ConnectionClosed:
            self._sent_at.pop()
            with self._lock:
                self._inflight -= 1
                self.stats.failed += 1

    def run(self, source: str, *, max_frames: int | None = None, loop: bool = False,
            on_frame: Callable[[FeedStats], None] | None = None, retries: int = 5) -> FeedStats:
        """Frame i is sent at start + i / fps: a file's next frame, or a stream's newest (asked for then), so
        the sends are paced and a stream's reads are not."""
        period = 1.0 / self.fps
        start = time.monotonic()
        futures: list[Future] = []
        stream_source = is_stream(source)
        source_frames = captures(source, self.fps, loop=loop, retries=retries, stats=self.stats)
        if self.transport == "stream":
            self._open_stream()
        with ThreadPoolExecutor(max_workers=self.max_inflight) as pool, contextlib.closing(source_frames):
            for i in itertools.count():
                if self._fatal or (max_frames is not None and i >= max_frames):
                    break
                delay = start + i * period - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif stream_source and delay < -period:
                    # A stream that stalled or reconnected: carry on at the pace from now, rather than send
                    # the sends it missed in a burst.
                    start = time.monotonic() - i * period
                got = next(source_frames, None)
                if got is None:
                    break
                frame, captured_at = got
                self.stats.read += 1
                with self._lock:
                    behind = self._inflight >= self.max_inflight
                    if not behind:
                        self._inflight += 1
                if behind:
                    self.stats.dropped += 1
                    self.stats.not_sent += 1
                else:
                    _ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
                    self.stats.sent += 1
                    now = time.time()
                    if captured_at is None:  # a file's frame: captured as it is sent
                        captured_at = now
                    else:
                        self.stats.frame_ages_ms.append((now - captured_at) * 1000)
                    if self.transport == "stream":
                        self._stream(buf.tobytes(), captured_at)
                    else:
                        futures.append(pool.submit(self._post, buf.tobytes(), captured_at))
                        futures = [f for f in futures if not f.done()]
                if on_frame:
                    on_frame(self.stats)
        if self._ws is not None:  # the last answers, then a clean close
            deadline = time.monotonic() + self.timeout_s
            while self._sent_at and not self._fatal and time.monotonic() < deadline:
                time.sleep(0.01)
            from websockets.exceptions import ConnectionClosed

            with contextlib.suppress(ConnectionClosed):  # the losses after the last frame sent, if still open
                self._report_not_sent()
            self._ws.close()
        self.stats.elapsed_s = time.monotonic() - start
        self.client.close()
        if self._fatal:
            raise self._fatal
        return self.stats
