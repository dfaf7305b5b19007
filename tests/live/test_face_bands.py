"""Faces seen, by whether they could be recognised (issue 32 item 4), on a scripted stream without Ray, PostgreSQL
or S3: scripted detections go through the live gate as it runs (BasicQualityGate in detect_faces), the frame
pipeline and the ingress's accounting (ray_apps/ingress/live.py LivePath.frame, built without Serve) into the
counters, whose flush runs the alerts context's real record_counts on a connection that keeps every statement.
The counts are exact, and nothing of any face (a box, a size, an embedding) is in what was written or logged."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from lfr_core.alerts.model import FaceBands
from lfr_core.config import QualitySettings, Settings
from lfr_core.live.pipeline import FramePipeline, detect_faces, size_bands
from lfr_core.live.records import DetectedFrame, Embedded, FaceRecord
from lfr_core.vision.quality import BasicQualityGate
from lfr_core.vision.types import Detection
from ray_apps.ingress.counters import Counters
from ray_apps.ingress.live import LivePath
from ray_apps.ingress.metrics import Metrics
from ray_apps.options import AppOptions
from tests.live.test_pipeline import PASSER_BY, live_deployment

GATE_PX, RELIABLE_PX = 24, 48
IMAGE = np.full((360, 640, 3), 128, np.uint8)

# (shorter side in px, detector score) per face; the sizes' decimals make them findable in anything written.
SCRIPT: dict[str, list[tuple[float, float]]] = {
    # too small for the gate; admitted below the reliable size; reliable
    "f0": [(16.5, 0.95), (30.37, 0.9), (64.25, 0.9)],
    # wide but too uncertain (refused, not small); small and uncertain; just below the reliable size; at it
    "f1": [(120.5, 0.41), (20.75, 0.3), (47.9, 0.9), (48.0, 0.9)],
    "f2": [],
    # just below the gate; at the gate (admitted, below reliable); wide
    "f3": [(23.99, 0.99), (24.0, 0.99), (200.0, 0.99)],
}
BANDS = {"f0": FaceBands(1, 0, 1, 1), "f1": FaceBands(1, 1, 1, 1), "f2": FaceBands(), "f3": FaceBands(1, 0, 1, 1)}
STREAMS = {"cam-1": ["f0", "f1", "f2", "f3", "f1"], "cam-2": ["f3", "f3", "f0"]}


def detection(side: float, score: float, n: int) -> Detection:
    x, y = 13.3 + 90 * n, 27.7  # the box 1.25 times taller than wide: its shorter side is `side`
    box = np.array([x, y, x + side, y + 1.25 * side], np.float32)
    landmarks = np.array([[x + 0.3 * side, y + 0.4 * side], [x + 0.7 * side, y + 0.4 * side],
                          [x + 0.5 * side, y + 0.6 * side], [x + 0.35 * side, y + 0.8 * side],
                          [x + 0.65 * side, y + 0.8 * side]], np.float32)
    return Detection(box, landmarks, score)


def frame_body(name: str) -> bytes:
    """A real JPEG (the ingress checks the body's format) with the frame's name in a comment segment."""
    jpeg = cv2.imencode(".jpg", IMAGE)[1].tobytes()
    comment = name.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + jpeg[2:]


BODIES = {frame_body(name): name for name in SCRIPT}


class ScriptedModels:
    """The detector answers each frame's script, and the gate, the aligner and the detect step are the live
    path's own (detect_faces); the embedder says every face is a passer-by."""

    def __init__(self) -> None:
        self.gate = BasicQualityGate(QualitySettings(min_live_face_px=GATE_PX), min_detector_score=0.7)
        self.script: list[Detection] = []
        self.engine = SimpleNamespace(detector=self, quality=self.gate, align_device=None,
                                      aligner=SimpleNamespace(align=lambda image, d: np.zeros((112, 112, 3), np.uint8)))

    def detect_batch(self, images):
        return [list(self.script) for _ in images]

    async def detect(self, body: bytes) -> DetectedFrame:
        self.script = [detection(side, score, n) for n, (side, score) in enumerate(SCRIPT[BODIES[body]])]
        return DetectedFrame(detect_faces(self.engine, [IMAGE])[0])  # type: ignore[arg-type]

    async def embed(self, crops: np.ndarray) -> list[Embedded]:
        return [Embedded(np.stack([PASSER_BY] * len(crops)))]

    async def decode(self, body: bytes) -> np.ndarray:
        raise AssertionError("a frame without an alert is never decoded again")

    async def store(self, pending) -> None:
        raise AssertionError("a passer-by's face is never stored")


class RecordingConnection:
    """Stands in for the live service's connection: keeps every statement and its parameters."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple]] = []

    def transaction(self):
        return contextlib.nullcontext()

    def execute(self, query, params=()):
        self.statements.append((str(query), tuple(params)))


class RecordingDb:
    def __init__(self) -> None:
        self.conn = RecordingConnection()

    async def __call__(self, fn, *args):
        return fn(self.conn, *args)


@pytest.fixture()
def streamed(caplog):
    """The scripted streams of two cameras through the ingress's frame path, flushed once."""
    caplog.set_level(logging.DEBUG)
    db = RecordingDb()
    ingress = LivePath(Settings(_env_file=None), AppOptions(), detector=None, embedder=None, store=None, db=db,
                       metrics=Metrics(), counters=Counters(db, flush_every_s=60), replica_id="bands")
    models = ScriptedModels()
    ingress.pipeline = FramePipeline(models.detect, models.embed, models.decode, models.store, reuse_margin=0.1,
                                     reliable_face_px=RELIABLE_PX)
    live = live_deployment()
    dep = live.deployment["id"]
    t0 = datetime.now(UTC)

    async def stream() -> list:
        results = []
        for camera, names in STREAMS.items():
            for i, name in enumerate(names):
                body = next(b for b, n in BODIES.items() if n == name)
                results.append(await ingress.frame(live, dep, camera, "image/jpeg", t0 + timedelta(seconds=0.2 * i),
                                                   body, time.perf_counter()))
        assert await ingress.counters.flush() == 2
        return results

    results = asyncio.run(stream())
    return {"dep": dep, "db": db, "results": results, "log": caplog.text}


def expected(camera: str) -> FaceBands:
    total = FaceBands()
    for name in STREAMS[camera]:
        total += BANDS[name]
    return total


def test_each_face_falls_in_one_band_by_the_gate_and_its_shorter_side():
    models = ScriptedModels()
    for name, want in BANDS.items():
        body = next(b for b, n in BODIES.items() if n == name)
        faces = [FaceRecord(f.box, f.score, f.crop) for f in asyncio.run(models.detect(body)).faces]
        assert size_bands(faces, RELIABLE_PX) == want, name
        assert want.total == len(SCRIPT[name])
    # with the reliable size at the gate's minimum (today's default) nothing is admitted below it
    body = next(b for b, n in BODIES.items() if n == "f1")
    faces = [FaceRecord(f.box, f.score, f.crop) for f in asyncio.run(models.detect(body)).faces]
    assert size_bands(faces, GATE_PX) == FaceBands(refused_small=1, refused_other=1, below_reliable=0, reliable=2)


def test_the_size_bands_reach_the_counters_exactly_per_camera(streamed):
    writes = [p for q, p in streamed["db"].conn.statements if "deployment_counters" in q]
    assert len(writes) == 2  # one per camera, in one flush
    by_camera = {p[1]: p for p in writes}
    for camera, names in STREAMS.items():
        dep, _camera, frames, faces, refused, dropped, *bands, reliable_px, not_sent = by_camera[camera]
        want = expected(camera)
        assert (dep, frames, faces, refused, dropped) == (str(streamed["dep"]), len(names),
                                                          sum(len(SCRIPT[n]) for n in names), 0, 0)
        assert tuple(bands) == (want.refused_small, want.refused_other, want.below_reliable, want.reliable)
        assert sum(bands) == faces and reliable_px == RELIABLE_PX and not_sent == 0
    assert expected("cam-1") == FaceBands(refused_small=4, refused_other=2, below_reliable=4, reliable=4)


def test_nothing_of_the_faces_is_written_or_logged(streamed):
    """What the counting wrote are whole numbers, the deployment and the camera; no face's size or box
    coordinate is in any statement or log line (the answers to the camera carry boxes: they are not stored)."""
    written = [v for _, params in streamed["db"].conn.statements for v in params]
    assert all(isinstance(v, int) for v in written if v not in (str(streamed["dep"]), "cam-1", "cam-2")), written
    text = " ".join(q + repr(p) for q, p in streamed["db"].conn.statements) + streamed["log"]
    coordinates = {f"{v:.1f}" for r in streamed["results"] for box in r.boxes for v in box if v % 1}
    sizes = {str(side) for faces in SCRIPT.values() for side, _ in faces if side % 1}
    assert coordinates and sizes
    for value in coordinates | sizes:
        assert value not in text, f"{value} written or logged"
