"""A test camera: an RTSP server (GStreamer's gst-rtsp-server) sending 25 frames/s of H.264 whose every frame
shows, as black and white blocks, the wall-clock time it was made and its index.

It runs under the system's Python (`/usr/bin/python3`, which has Debian's python3-gi; the project's venv has
no GObject bindings), so it imports only the standard library and `gi`. `lfr_ops/rtsp_camera.py` starts it,
reads the blocks back and documents the layout. `python3 rtsp_camera_server.py --check` exits 0 when every
GStreamer part it needs is installed, else prints what is missing.

The frames are made in real time, as a camera's are: frame k is pushed at start + k / fps, stamped by appsrc
with the pipeline's clock (so the stream's timestamps are capture times), and carries time.time() at that
moment. The media is shared: every client sees the same camera, which counts on across reconnects.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

WIDTH, HEIGHT = 320, 240
COLUMNS, ROWS = 8, 8  # 64 blocks of 40 x 30 pixels: one bit each
TIME_BITS, INDEX_BITS, CHECK_BITS = 42, 14, 8  # epoch milliseconds (to 2109), frame index mod 16384, check byte
ELEMENTS = ("appsrc", "videoconvert", "x264enc", "rtph264pay")


def checksum(payload: int) -> int:
    """One byte over the 56 payload bits, so that a misread block is noticed, not taken for another time."""
    total = 0
    for shift in range(0, TIME_BITS + INDEX_BITS, 8):
        total = (total * 31 + ((payload >> shift) & 0xFF)) & 0xFF
    return total ^ 0xA5


def word(epoch_ms: int, index: int) -> int:
    payload = (epoch_ms & ((1 << TIME_BITS) - 1)) | ((index & ((1 << INDEX_BITS) - 1)) << TIME_BITS)
    return payload | (checksum(payload) << (TIME_BITS + INDEX_BITS))


def frame_bytes(epoch_ms: int, index: int) -> bytes:
    """A GRAY8 frame: block i (row-major) is white when bit i of the word is set."""
    bits = word(epoch_ms, index)
    block_w, block_h = WIDTH // COLUMNS, HEIGHT // ROWS
    rows = []
    for r in range(ROWS):
        line = b"".join((b"\xff" if bits >> (r * COLUMNS + c) & 1 else b"\x00") * block_w for c in range(COLUMNS))
        rows.append(line * block_h)
    return b"".join(rows)


def gstreamer() -> tuple[Any, Any, Any]:
    """GLib, Gst and GstRtspServer, initialised."""
    import gi  # type: ignore[import-not-found]  # the system Python's python3-gi, not in the venv

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]

    Gst.init(None)
    return GLib, Gst, GstRtspServer


def check() -> str | None:
    """What is missing for the server, or None."""
    try:
        _glib, Gst, _server = gstreamer()
    except (ImportError, ValueError) as e:
        return f"GStreamer's RTSP server for Python is missing ({e})"
    missing = [name for name in ELEMENTS if Gst.ElementFactory.find(name) is None]
    return f"GStreamer elements missing: {', '.join(missing)}" if missing else None


def serve(port: int, fps: int, path: str) -> None:
    GLib, Gst, GstRtspServer = gstreamer()
    started = time.time()
    caps = f"video/x-raw,format=GRAY8,width={WIDTH},height={HEIGHT},framerate={fps}/1"
    # zerolatency: no frames held back for B-frames or lookahead; a key frame each second so that a client
    # that (re)connects decodes within a second; SPS/PPS with every key frame for the same reason.
    launch = (f"( appsrc name=src is-live=true do-timestamp=true format=time caps={caps} ! videoconvert ! "
              f"x264enc tune=zerolatency speed-preset=ultrafast threads=1 bitrate=1000 key-int-max={fps} ! "
              f"rtph264pay name=pay0 pt=96 config-interval=-1 )")

    def push(src) -> None:
        """Frame k of the camera at started + k / fps, until the media stops (push-buffer says so)."""
        k = int((time.time() - started) * fps) + 1
        while True:
            delay = started + k / fps - time.time()
            if delay > 0:
                time.sleep(delay)
            now = time.time()
            data = frame_bytes(int(now * 1000), k)
            buf = Gst.Buffer.new_allocate(None, len(data), None)  # a copy: GStreamer owns it, not Python
            buf.fill(0, data)
            buf.duration = Gst.SECOND // fps
            if src.emit("push-buffer", buf) != Gst.FlowReturn.OK:
                return
            k += 1

    def configure(_factory, media) -> None:
        src = media.get_element().get_child_by_name("src")
        threading.Thread(target=push, args=(src,), daemon=True).start()

    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(True)
    factory.connect("media-configure", configure)
    server.get_mount_points().add_factory(path, factory)
    if not server.attach(None):
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        sys.exit(1)
    print(f"ready rtsp://127.0.0.1:{port}{path}", flush=True)
    GLib.MainLoop().run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--path", default="/camera")
    parser.add_argument("--check", action="store_true", help="exit 0 when GStreamer has what the server needs")
    args = parser.parse_args()
    if args.check:
        missing = check()
        if missing:
            print(missing, file=sys.stderr)
            sys.exit(1)
        return
    serve(args.port, args.fps, args.path)


if __name__ == "__main__":
    main()
