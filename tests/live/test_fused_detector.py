"""The frame pipeline with a fused detector (issue 29 item 2), on the CPU, on real shared faces: the detector
runs DevicePipeline (detect, live gate, align, SFace in torch) and hands back embeddings instead of crops.
The embedder is never called, the same faces are embedded as by the detector-then-embedder path, and the
same people are matched and alerted; a detector on other weights than the list's refuses the frame; the
deployment's own size gate drops a fused face's embedding as it drops a crop. No Ray, PostgreSQL or S3."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from lfr_core.config import get_settings
from lfr_core.live.pipeline import DetectorModelMismatch, FramePipeline, local_callables
from lfr_core.live.records import DetectedFrame, Embedded, FrameOutcome
from lfr_core.live.state import LiveDeployment
from lfr_core.matching.matcher import ExactMatcher
from lfr_core.matching.tracker import Tracker, TrackParams
from lfr_core.vision.engine import largest_face

pytestmark = pytest.mark.slow  # seconds: runs shared faces and crowd photos through the fused and the unfused live path

torch = pytest.importorskip("torch")

# deepface's labelled photographs: (the custody image enrolled, another photograph of the same person probed).
LISTED = {"deepface_img11": ("img1.jpg", "img2.jpg"), "deepface_img58": ("img13.jpg", "img14.jpg"),
          "deepface_img62": ("img16.jpg", "img17.jpg")}
PASSERS_BY = ("img18.jpg", "img38.jpg")  # people on no list
CROWD = ("12.jpg", "16.jpg", "8.jpg")  # nobody listed: a few faces each, and 77 that the live gate refuses
# hits_to_alert 2: a listed face's second frame raises its alert; later frames of a settled track reuse its embedding
FRAMES_PER_CAMERA = 3


@pytest.fixture(scope="module")
def settings():
    return get_settings()


@pytest.fixture(scope="module")
def engine(settings):
    from lfr_core.vision.engine import build_engine

    return build_engine(settings)


@pytest.fixture(scope="module")
def device_pipeline(settings):
    from lfr_core.vision.device_pipeline import DevicePipeline

    return DevicePipeline.from_settings(settings, device="cpu")


def camera_frame(path) -> bytes:
    """A photograph as a camera would send it: at most 640 px on its longest side, JPEG."""
    image = cv2.imread(str(path))
    scale = min(1.0, 640 / max(image.shape[:2]))
    image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])[1].tobytes()


@pytest.fixture(scope="module")
def bodies(shared_dir) -> dict[str, bytes]:
    """Each camera's frame: a listed person's other photograph, a passer-by, a crowd."""
    faces, crowd = shared_dir / "data/faces/deepface", shared_dir / "data/crowd"
    out = {f"cam-{ref}": camera_frame(faces / probe) for ref, (_, probe) in LISTED.items()}
    out |= {f"cam-{name}": camera_frame(faces / name) for name in PASSERS_BY}
    return out | {f"cam-crowd-{name}": camera_frame(crowd / name) for name in CROWD}


@pytest.fixture(scope="module")
def matcher(shared_dir, engine, device_pipeline) -> ExactMatcher:
    """The listed people's custody images, enrolled by the CPU engine; the list's model is SFace's weights."""
    from lfr_core.vision.images import load_image

    images = [load_image(shared_dir / "data/faces/deepface" / enrol, max_pixels=40_000_000, max_bytes=25_000_000)
              for enrol, _ in LISTED.values()]
    faces = [largest_face(row) for row in engine.analyse_batch(images, purpose="enrol")]
    assert all(f is not None and f.embedding is not None for f in faces)
    sha = device_pipeline.identity["embedder"].weights_sha256
    assert engine.embedder.identity.weights_sha256 == sha  # one model: the CPU engine's and the pipeline's
    version = {"id": uuid.uuid4(), "deployment_id": uuid.uuid4(), "threshold": 0.4, "embedder_sha256": sha,
               "embedding_dim": 128}
    entries = [{"entry_id": n, "subject_ref": ref, "category": "wanted_by_court", "image_uri": f"s3://img/{n}.jpg"}
               for n, ref in enumerate(LISTED)]
    return ExactMatcher(version, np.stack([f.embedding for f in faces]), entries)


def live_deployment(matcher: ExactMatcher) -> LiveDeployment:
    now = datetime.now(UTC)
    deployment = {"id": matcher.deployment_id, "status": "live", "window_start": now - timedelta(hours=1),
                  "window_end": now + timedelta(hours=1)}
    version = {"id": matcher.version_id}
    return LiveDeployment(deployment, version, matcher, Tracker(TrackParams(hits_to_alert=2, cooldown_s=60, reuse_s=1.0)), 0.0)


class Run:
    """The frame pipeline with the models in this process, fused or not; what the embedder and the store saw."""

    def __init__(self, engine, settings, *, fused=None, detect=None, min_face_px: int = 24) -> None:
        local_detect, local_embed, decode = local_callables(engine, max_pixels=settings.serve.max_live_pixels,
                                                            max_bytes=settings.serve.max_body_bytes, fused=fused)
        self.embedded_crops, self.stored = 0, []

        async def embed(crops: np.ndarray) -> list[Embedded]:
            self.embedded_crops += len(crops)
            return await local_embed(crops)

        async def store(pending) -> None:
            self.stored.append(pending)

        self.pipeline = FramePipeline(detect or local_detect, embed, decode, store, reuse_margin=0.1,
                                      reliable_face_px=48, min_face_px=min_face_px)
        self.detect = local_detect

    def stream(self, live: LiveDeployment, bodies: dict[str, bytes]) -> dict[str, list[FrameOutcome]]:
        t0 = datetime.now(UTC)

        async def camera(camera_id: str, body: bytes) -> list[FrameOutcome]:
            return [await self.pipeline.run(live, camera_id, t0 + timedelta(seconds=0.2 * i), body)
                    for i in range(FRAMES_PER_CAMERA)]

        return {camera_id: asyncio.run(camera(camera_id, body)) for camera_id, body in bodies.items()}


@pytest.fixture(scope="module")
def unfused(engine, settings, matcher, bodies):
    run = Run(engine, settings)
    return run, run.stream(live_deployment(matcher), bodies)


@pytest.fixture(scope="module")
def fused(engine, settings, matcher, bodies, device_pipeline):
    run = Run(engine, settings, fused=device_pipeline)
    return run, run.stream(live_deployment(matcher), bodies)


def test_a_fused_detector_s_faces_are_never_sent_to_the_embedder(fused, unfused):
    (fused_run, outcomes), (unfused_run, _) = fused, unfused
    assert fused_run.embedded_crops == 0 and unfused_run.embedded_crops > 0
    for frames in outcomes.values():
        for outcome in frames:
            assert outcome.embed_s == 0.0 and outcome.embed_batches == []  # no embed stage in the metrics
            assert all(f.crop is None for f in outcome.faces)  # no crop left the detector


def test_the_same_faces_are_embedded_or_reused_and_the_same_people_matched_as_without_fusion(fused, unfused):
    (_, ours), (_, theirs) = fused, unfused
    assert [[o.reused for o in frames] for frames in ours.values()] == \
        [[o.reused for o in frames] for frames in theirs.values()]
    assert sum(o.reused for frames in ours.values() for o in frames) > 0  # settled tracks still reuse
    faces = 0
    for camera_id, theirs_frame in ((c, frames[0]) for c, frames in theirs.items()):
        ours_frame = ours[camera_id][0]
        assert len(ours_frame.faces) == len(theirs_frame.faces), camera_id
        assert ours_frame.bands == theirs_frame.bands and ours_frame.embedded == theirs_frame.embedded
        for mine, other in zip(ours_frame.faces, theirs_frame.faces):
            assert float(np.abs(mine.box - other.box).max()) <= 1.0
            assert (mine.embedding is None) == (other.embedding is None)
            if mine.embedding is not None:
                assert float(mine.embedding @ other.embedding) >= 0.999
                # a score against a centroid (norm <= 1) moves by at most the embeddings' distance
                gap = float(np.linalg.norm(mine.embedding - other.embedding))
                assert abs(mine.top_score - other.top_score) <= gap + 1e-6
                faces += 1
            assert (mine.match and mine.match.subject_ref) == (other.match and other.match.subject_ref)
    assert faces >= len(LISTED) + len(PASSERS_BY)
    refused = sum(o.bands.refused_small + o.bands.refused_other for frames in ours.values() for o in frames)
    assert refused > 0  # and faces the detector's gate refused come back with neither crop nor embedding


def test_the_same_alerts_are_raised_for_the_listed_people_only(fused, unfused):
    (fused_run, ours), (unfused_run, theirs) = fused, unfused

    def alerted(outcomes):
        return {camera_id: [a.subject_ref for o in frames for a in o.alerts] for camera_id, frames in outcomes.items()}

    assert alerted(ours) == alerted(theirs)
    assert alerted(ours) == {camera_id: ([camera_id.removeprefix("cam-")] if camera_id.removeprefix("cam-") in LISTED
                                         else []) for camera_id in ours}
    # Only the alerts reach the store: nothing of the passers-by or the crowd.
    assert sorted(p.alert.subject_ref for p in fused_run.stored) == sorted(LISTED)
    assert sorted(p.alert.subject_ref for p in unfused_run.stored) == sorted(LISTED)


def test_a_detector_embedding_with_other_weights_than_the_list_s_refuses_the_frame(engine, settings, matcher, bodies,
                                                                                  device_pipeline):
    """Never two models' embeddings compared: a fused detector whose embedder is not the one the list was
    made with (or that names none) has its frame refused, before anything reaches the tracks."""
    base = Run(engine, settings, fused=device_pipeline)
    for sha in ("0" * 64, None):
        async def other_weights(body: bytes, sha=sha) -> DetectedFrame:
            detected = await base.detect(body)
            assert isinstance(detected, DetectedFrame) and detected.embedder_sha256 == matcher.embedder_sha256
            return replace(detected, embedder_sha256=sha)

        run = Run(engine, settings, fused=device_pipeline, detect=other_weights)
        live = live_deployment(matcher)
        with pytest.raises(DetectorModelMismatch, match="embeddings of different models are never compared"):
            asyncio.run(run.pipeline.run(live, "cam-1", datetime.now(UTC), bodies["cam-deepface_img11"]))
        assert run.embedded_crops == 0 and run.stored == [] and live.tracker.track_count() == 0


def test_the_deployment_s_size_gate_drops_a_fused_face_s_embedding(engine, settings, matcher, bodies, device_pipeline):
    """A deployment's gate above a face's size refuses it as the detector's gate would: its embedding is
    dropped, never matched, and it is counted as refused."""
    body = bodies["cam-deepface_img11"]
    detected = asyncio.run(Run(engine, settings, fused=device_pipeline).detect(body))
    assert isinstance(detected, DetectedFrame)
    sizes = sorted(min(f.box[2] - f.box[0], f.box[3] - f.box[1]) for f in detected.faces if f.embedding is not None)
    assert sizes
    run = Run(engine, settings, fused=device_pipeline, min_face_px=int(sizes[-1]) + 1)
    live = live_deployment(matcher)
    outcome = asyncio.run(run.pipeline.run(live, "cam-1", datetime.now(UTC), body))
    assert all(f.embedding is None and f.match is None and not f.usable for f in outcome.faces)
    assert outcome.embedded == 0 and outcome.bands.refused_small + outcome.bands.refused_other == len(outcome.faces)
    assert run.embedded_crops == 0 and run.stored == []
