"""A camera on this machine for tests and benches: an RTSP server sending 25 frames/s of H.264, each frame
showing the wall-clock time it was made and its index (lfr_ops/rtsp_camera_server.py), and the reader of
those marks, so that a consumer of the stream can tell how old each frame it got is.

The server is GStreamer's gst-rtsp-server driven from the system's Python (Debian's python3-gi); the
project's venv has no GObject bindings, so it runs in a subprocess. `missing()` says what to install when it
cannot run (`.ci/ensure-gstreamer` installs it as root). Benches and tests both start it from here.
"""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from lfr_ops.bench_env import free_port
from lfr_ops.rtsp_camera_server import COLUMNS, INDEX_BITS, ROWS, TIME_BITS, checksum

SERVER = Path(__file__).with_name("rtsp_camera_server.py")
# Debian's: the bindings, the RTSP server's, appsrc and videoconvert, rtph264pay, x264enc (.ci/ensure-gstreamer
# installs the same list).
PACKAGES = ("python3-gi", "gir1.2-gst-rtsp-server-1.0", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good",
            "gstreamer1.0-plugins-ugly")
INSTALL = f"apt-get install -y --no-install-recommends {' '.join(PACKAGES)}"


def system_python() -> str:
    """The Python that has GStreamer's bindings: Debian's, unless LFR_GST_PYTHON names another."""
    return os.environ.get("LFR_GST_PYTHON") or "/usr/bin/python3"


def missing() -> str | None:
    """Why the test camera cannot run here (with what to run), or None when it can."""
    python = system_python()
    if not Path(python).is_file():
        return f"no {python} to run GStreamer's RTSP server (set LFR_GST_PYTHON to a Python with python3-gi)"
    try:
        check = subprocess.run([python, str(SERVER), "--check"], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return f"{python} {SERVER.name} --check did not answer in 60 s"
    if check.returncode == 0:
        return None
    return (f"{check.stderr.strip() or 'the RTSP test camera cannot run'}: `make test` installs it as root "
            f"(.ci/ensure-gstreamer), else run `sudo {INSTALL}`")


@dataclass(frozen=True)
class Mark:
    made_at: float  # epoch seconds (to the millisecond) when the camera made the frame
    index: int  # the camera's frame number, modulo 2**INDEX_BITS


def read_mark(image: np.ndarray) -> Mark | None:
    """The time and index a test camera's frame shows, at any size; None when its check byte disagrees (not
    such a frame, or damaged)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = gray.shape
    word = 0
    for r in range(ROWS):
        for c in range(COLUMNS):
            # The middle half of each block: its edges blur under H.264 and any scaling.
            block = gray[int((r + 0.25) * h / ROWS):int((r + 0.75) * h / ROWS),
                         int((c + 0.25) * w / COLUMNS):int((c + 0.75) * w / COLUMNS)]
            if block.mean() > 128:
                word |= 1 << (r * COLUMNS + c)
    payload = word & ((1 << (TIME_BITS + INDEX_BITS)) - 1)
    if word >> (TIME_BITS + INDEX_BITS) != checksum(payload):
        return None
    return Mark((payload & ((1 << TIME_BITS) - 1)) / 1000, payload >> TIME_BITS)


class RtspTestCamera:
    """The test camera on a free port of 127.0.0.1, from `start()` (or `with`) until `stop()`; `start()`
    again after `stop()` brings it back on the same port, as a camera that restarts does."""

    def __init__(self, fps: int = 25, port: int | None = None) -> None:
        self.fps, self.port = fps, port or free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/camera"
        self._proc: subprocess.Popen[str] | None = None

    def start(self, timeout_s: float = 30.0) -> RtspTestCamera:
        reason = missing()
        if reason:
            raise RuntimeError(reason)
        proc = self._proc = subprocess.Popen(
            [system_python(), str(SERVER), "--port", str(self.port), "--fps", str(self.fps)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(proc.stdout.readline() if proc.stdout else ""),
                                  daemon=True)
        reader.start()
        reader.join(timeout_s)
        if not first or not first[0].startswith("ready "):
            err = self._end(proc)
            raise RuntimeError(f"the RTSP test camera did not start on port {self.port} in {timeout_s:.0f} s: "
                               f"{err or 'no output'}")
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._end(self._proc)

    def _end(self, proc: subprocess.Popen[str]) -> str:
        """Stop the server; what it wrote to stderr."""
        self._proc = None
        proc.terminate()
        try:
            _out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        return (err or "").strip()

    def __enter__(self) -> RtspTestCamera:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
