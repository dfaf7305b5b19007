"""A live camera read at its newest frame (issue 31 item 7, lfr_ops/camera_stream.py): a thread reads the stream
without pause and hands out the frame that arrives after it is asked for, stamped with the time the camera
captured it (the stream's clock mapped to ours); a reconnect keeps that. These tests drive it with a stand-in
for OpenCV's capture; tests/ops/test_feed_rtsp.py feeds a real RTSP camera through `lfr feed`. Also: the test
camera (lfr_ops/rtsp_camera.py) says what to install when it cannot run, and `make test` installs it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from lfr_ops.camera_stream import NewestFrame, StreamClock
from lfr_ops.rtsp_camera import INSTALL, PACKAGES, missing

# -- the stream's clock --------------------------------------------------------------------------------------


def test_capture_times_follow_the_stream_clock_from_the_frame_that_arrived_soonest():
    clock = StreamClock()
    made0, latency = 1_000.0, 0.08
    # Opening: the first 30 frames read from a backlog at once, faster than the camera made them; then each
    # frame as it arrives, some later than others.
    backlog = {k: made0 + 1.3 + k * 0.001 for k in range(30)}
    live = {k: made0 + k * 0.04 + latency + (0.03 if k % 7 == 3 else 0.0) for k in range(35, 80)}
    stamps = {k: clock.stamp(k * 40.0, grabbed_at) for k, grabbed_at in (backlog | live).items()}
    errors = [stamps[k] - (made0 + k * 0.04) for k in live]
    assert max(abs(e - latency) for e in errors) < 1e-6  # late by the least latency, whatever the jitter
    assert all(stamps[k] <= grabbed_at for k, grabbed_at in backlog.items())  # never after its grab


def test_without_usable_stream_times_the_capture_time_is_the_grab_time():
    clock = StreamClock()
    assert clock.stamp(None, 10.0) == 10.0
    assert clock.stamp(float("nan"), 11.0) == 11.0
    stuck = [clock.stamp(0.0, 20.0 + k * 0.04) for k in range(60)]  # a source that gives 0 for every frame
    assert stuck[-1] == 20.0 + 59 * 0.04
    clock.stamp(5_000.0, 100.0)
    assert clock.stamp(40.0, 100.5) == 100.5  # time went back: a new stream, a new clock


# -- the reader, against a stand-in for OpenCV's capture -----------------------------------------------------


class FakeCamera:
    """Frames made at `fps` from `made0` (their pixels hold their number); opening it delivers a backlog of
    `backlog_s` at once, as OpenCV does with RTSP; it drops after `drop_after` frames."""

    def __init__(self, made0: float, fps: float = 25.0, backlog_s: float = 1.0, drop_after: int | None = None):
        self.made0, self.fps, self.drop_after = made0, fps, drop_after
        self.k = max(0, int((time.time() - made0 - backlog_s) * fps))
        self.first, self.delivered = self.k, 0

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def grab(self) -> bool:
        if self.drop_after is not None and self.delivered >= self.drop_after:
            return False
        due = self.made0 + self.k / self.fps + 0.05  # 50 ms of transport
        if due > time.time():
            time.sleep(due - time.time())
        self.k += 1
        self.delivered += 1
        return True

    def get(self, prop: int) -> float:
        if prop == cv2.CAP_PROP_FPS:
            return self.fps
        return (self.k - 1 - self.first) * 1000 / self.fps  # CAP_PROP_POS_MSEC

    def retrieve(self) -> tuple[bool, np.ndarray]:
        return True, np.full((4, 4), self.k - 1, np.int64)

    def release(self) -> None:
        pass


@pytest.mark.slow  # a stand-in camera runs for seconds of real time
def test_a_slow_taker_gets_the_newest_frame_of_a_fast_camera_stamped_when_it_was_made():
    made0 = time.time() - 5.0
    reader = NewestFrame("rtsp://stand-in", open_capture=lambda _source: FakeCamera(made0)).start()
    try:
        number, errors, ages = 0, [], []
        for _ in range(10):
            time.sleep(0.2)
            got = reader.take(after=number)
            number = got.number
            made = made0 + int(got.image[0, 0]) / 25.0
            ages.append(time.time() - made)
            errors.append(got.captured_at - made)
    finally:
        reader.close()
    assert max(ages) < 0.15, ages  # the newest frame, not the backlog's or the next in a queue
    assert all(0.0 <= e < 0.06 for e in errors), errors  # late by the transport's 50 ms at most
    assert reader.grabbed >= 25 + 2 * 25  # it read the backlog and every frame since


@pytest.mark.slow  # a stand-in camera runs for seconds of real time
def test_after_a_dropped_stream_the_reader_reconnects_and_stays_at_the_newest_frame():
    made0 = time.time() - 5.0
    opened: list[FakeCamera] = []

    def open_capture(_source: str) -> FakeCamera:
        opened.append(FakeCamera(made0, drop_after=40 if not opened else None))
        return opened[-1]

    reader = NewestFrame("rtsp://stand-in", backoff_s=0.05, open_capture=open_capture).start()
    try:
        number, late = 0, []
        deadline = time.time() + 3.5
        while time.time() < deadline:
            time.sleep(0.2)
            got = reader.take(after=number)
            number = got.number
            made = made0 + int(got.image[0, 0]) / 25.0
            late.append((time.time() - made, got.captured_at - made))
    finally:
        reader.close()
    assert len(opened) == 2 and reader.reconnects == 1
    assert max(age for age, _ in late) < 0.15 and all(0.0 <= e < 0.06 for _, e in late), late


# -- the test camera says what it needs, and `make test` installs it (nothing is installed here: `apt-get`,
# `id` and the system's Python are stand-ins) ----------------------------------------------------------------


def test_the_test_camera_says_what_to_install_when_gstreamer_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("LFR_GST_PYTHON", str(tmp_path / "no-python"))
    assert "LFR_GST_PYTHON" in (missing() or "")
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'GStreamer elements missing: x264enc' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("LFR_GST_PYTHON", str(fake))
    reason = missing() or ""
    assert "x264enc" in reason and "gstreamer1.0-plugins-ugly" in reason and ".ci/ensure-gstreamer" in reason


ROOT = Path(__file__).resolve().parents[2]
ENSURE = ROOT / ".ci" / "ensure-gstreamer"


def _stand_ins(tmp_path: Path, uid: int, installed: bool) -> tuple[Path, Path]:
    """`id -u` answers `uid`; `apt-get` logs its arguments and, on install, makes the Python's check pass."""
    bin_dir, flag = tmp_path / "bin", tmp_path / "installed"
    bin_dir.mkdir()
    if installed:
        flag.touch()
    scripts = {"id": f"#!/bin/sh\necho {uid}\n",
               "apt-get": f"#!/bin/sh\necho \"$@\" >> {tmp_path}/apt.log\ncase \"$*\" in *install*) touch {flag};; esac\n",
               "python": f"#!/bin/sh\n[ -e {flag} ] && exit 0\necho 'GStreamer elements missing: x264enc' >&2\nexit 1\n"}
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir, bin_dir / "python"


def _ensure(tmp_path: Path, uid: int, installed: bool) -> subprocess.CompletedProcess[str]:
    bin_dir, python = _stand_ins(tmp_path, uid, installed)
    return subprocess.run([str(ENSURE)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "LFR_GST_PYTHON": str(python)})


def test_ensure_gstreamer_does_nothing_when_the_camera_can_run(tmp_path):
    done = _ensure(tmp_path, 0, installed=True)
    assert done.returncode == 0 and done.stderr == "" and not (tmp_path / "apt.log").exists()


def test_ensure_gstreamer_installs_debians_packages_as_root(tmp_path):
    done = _ensure(tmp_path, 0, installed=False)
    assert done.returncode == 0, done.stderr
    assert f"install -y -qq --no-install-recommends {' '.join(PACKAGES)}" in (tmp_path / "apt.log").read_text()


def test_ensure_gstreamer_stops_with_one_line_saying_what_to_run_otherwise(tmp_path):
    done = _ensure(tmp_path, 1000, installed=False)
    assert done.returncode == 1 and not (tmp_path / "apt.log").exists()
    assert len(done.stderr.strip().splitlines()) == 1 and f"sudo {INSTALL}" in done.stderr


def test_make_test_gets_gstreamer_before_pytest():
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index(".ci/ensure-gstreamer") < recipe.index("pytest")
