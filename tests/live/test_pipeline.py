"""The frame pipeline on its own: fake models and fake storage, no Ray, PostgreSQL or S3.

The frame is a real JPEG (the probe crop is cut from it); the "models" say where the faces are and what
their embeddings are, so each test decides who matches."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.live.pipeline import AlertsNotRaised, FramePipeline, FrameRefused, ModelUnavailable, PipelineTimeouts
from lfr_core.live.records import DetectedFace, DetectedFrame, Embedded, RefusedFrame
from lfr_core.live.state import LiveDeployment
from lfr_core.matching.matcher import ExactMatcher
from lfr_core.matching.tracker import Tracker, TrackParams
from lfr_core.storage.objectstore import ObjectStoreUnavailable

DIM = 8
WANTED = np.eye(DIM, dtype=np.float32)[0]  # the listed person's template
PASSER_BY = np.eye(DIM, dtype=np.float32)[1]  # nobody on the list
FRAME = cv2.imencode(".jpg", np.full((360, 640, 3), 128, np.uint8))[1].tobytes()
BOX = np.array([100, 100, 180, 180], np.float32)


def live_deployment(params: TrackParams = TrackParams(hits_to_alert=2, cooldown_s=60)) -> LiveDeployment:
    version = {"id": uuid.uuid4(), "deployment_id": uuid.uuid4(), "threshold": 0.5, "embedder_sha256": "fake",
               "embedding_dim": DIM}
    matcher = ExactMatcher(version, WANTED[None, :], [{"entry_id": 1, "subject_ref": "SUBJ-1", "category":
                                                       "wanted_by_court", "image_uri": "s3://img/1.jpg"}])
    now = datetime.now(UTC)
    deployment = {"id": version["deployment_id"], "status": "live", "window_start": now - timedelta(hours=1),
                  "window_end": now + timedelta(hours=1)}
    return LiveDeployment(deployment, version, matcher, Tracker(params), loaded_at=0.0)


class Fakes:
    """The models and the storage, scripted: `embeddings` is what the embedder returns for each frame's faces."""

    def __init__(self, embedding: np.ndarray = WANTED) -> None:
        self.embedding = embedding
        self.stored: list = []
        self.storage_down: type[BaseException] | None = None
        self.detector_hangs = False
        self.embedded = 0

    async def detect(self, body: bytes) -> DetectedFrame | RefusedFrame:
        if self.detector_hangs:
            await asyncio.sleep(60)
        if not body.startswith(b"\xff\xd8"):
            return RefusedFrame("undecodable", "not an image")
        return DetectedFrame([DetectedFace(BOX, 0.9, np.zeros((112, 112, 3), np.uint8))])

    async def embed(self, crops: np.ndarray) -> list[Embedded]:
        self.embedded += len(crops)
        return [Embedded(np.stack([self.embedding] * len(crops)))]

    async def decode(self, body: bytes) -> np.ndarray:
        return cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)

    async def store(self, pending) -> dict:
        if self.storage_down is not None:
            raise self.storage_down("storage is down")
        if pending.alert_id not in [p.alert_id for p in self.stored]:  # idempotent by id, as raise_alert is
            self.stored.append(pending)
        return {"id": pending.alert_id}

    def pipeline(self, **kw) -> FramePipeline:
        return FramePipeline(self.detect, self.embed, self.decode, self.store, reuse_margin=0.1, reliable_face_px=48,
                             **kw)


def frames(pipeline: FramePipeline, live: LiveDeployment, n: int, *, start: float = 0.0):
    """n frames of camera cam-1, a fifth of a second apart."""
    t0 = datetime.now(UTC)
    return [asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=start + i * 0.2), FRAME)) for i in range(n)]


def test_a_listed_face_raises_one_alert_with_its_probe_crop_after_two_hits():
    fakes, live = Fakes(), live_deployment()
    outcomes = frames(fakes.pipeline(), live, 4)
    assert [len(o.alerts) for o in outcomes] == [0, 1, 0, 0]  # k=2 hits, then one alert per track
    alert = outcomes[1].alerts[0]
    assert alert.subject_ref == "SUBJ-1" and len(fakes.stored) == 1
    stored = fakes.stored[0]
    assert stored.alert_id == alert.id and stored.alert.camera_id == "cam-1"
    assert stored.alert.watchlist_image_uri == "s3://img/1.jpg" and stored.probe_crop_jpeg[:2] == b"\xff\xd8"
    face = outcomes[1].faces[0]
    assert face.match.subject_ref == "SUBJ-1" and face.decision.subject_ref == "SUBJ-1"


def test_a_face_that_matches_nobody_raises_nothing_and_is_stored_nowhere():
    fakes, live = Fakes(PASSER_BY), live_deployment()
    outcomes = frames(fakes.pipeline(), live, 5)
    assert not any(o.alerts for o in outcomes) and fakes.stored == []
    assert all(f.match is None and f.top_score < 0.5 for o in outcomes for f in o.faces)


def test_a_settled_track_reuses_its_embedding_instead_of_embedding_again():
    fakes = Fakes(PASSER_BY)
    live = live_deployment(TrackParams(hits_to_alert=2, reuse_s=1.0))
    outcomes = frames(fakes.pipeline(), live, 4)
    assert [o.embedded for o in outcomes] == [1, 0, 0, 0] and [o.reused for o in outcomes] == [0, 1, 1, 1]
    assert fakes.embedded == 1


@pytest.mark.parametrize("outage", [DatabaseUnavailable, ObjectStoreUnavailable])
def test_an_alert_that_cannot_be_stored_is_not_raised_and_the_track_decides_again(outage):
    """Nothing is held in memory, where a process's death would lose it: the camera is told the alert was not
    raised, and the decision is taken back, so the cooldown does not suppress the person on later frames."""
    fakes, live = Fakes(), live_deployment()
    pipeline = fakes.pipeline()
    frames(pipeline, live, 1)
    fakes.storage_down = outage
    with pytest.raises(AlertsNotRaised, match=r"1 alert.s. not raised") as refused:
        frames(pipeline, live, 1, start=0.2)
    assert refused.value.not_raised == 1 and refused.value.outcome.alerts == [] and fakes.stored == []
    with pytest.raises(AlertsNotRaised):  # same person still in view, storage still down: decided again
        frames(pipeline, live, 1, start=0.4)
    fakes.storage_down = None
    later = frames(pipeline, live, 3, start=0.6)
    assert [len(o.alerts) for o in later] == [1, 0, 0]  # decided again once, not suppressed by a cooldown
    assert [p.alert_id for p in fakes.stored] == [later[0].alerts[0].id]


def test_a_model_that_does_not_answer_fails_the_frame_within_the_timeout():
    fakes, live = Fakes(), live_deployment()
    fakes.detector_hangs = True
    pipeline = fakes.pipeline(timeouts=PipelineTimeouts(detect_s=0.2, embed_s=0.2))
    with pytest.raises(ModelUnavailable, match="detector unavailable"):
        asyncio.run(pipeline.run(live, "cam-1", datetime.now(UTC), FRAME))


def test_bytes_that_are_no_image_are_refused_with_the_reason():
    fakes, live = Fakes(), live_deployment()
    with pytest.raises(FrameRefused, match="undecodable"):
        asyncio.run(fakes.pipeline().run(live, "cam-1", datetime.now(UTC), b"not an image"))


def test_the_gate_closes_outside_the_window_and_when_cancelled():
    live = live_deployment()
    assert live.gate() is None
    assert "outside the deployment window" in live.gate(live.deployment["window_end"] + timedelta(seconds=1))
    live.deployment["status"] = "cancelled"
    assert "cancelled" in live.gate()
    live.deployment["status"], live.matcher = "live", None
    assert "no active watchlist" in live.gate()
    assert live.stale(10.0, 5.0) and not live.stale(1.0, 5.0)


def test_a_camera_new_here_carries_its_cooldowns_from_the_alert_log():
    """A camera that moved from another ingress replica (or a new list) starts fresh tracks, but a person
    alerted on it within the cooldown is not alerted again."""
    fakes, live = Fakes(), live_deployment()
    t0 = datetime.now(UTC)

    async def alerted_a_moment_ago(deployment_id, camera_id, since):
        assert deployment_id == live.deployment["id"] and since <= t0 - timedelta(seconds=59)
        return {"SUBJ-1": (t0 - timedelta(seconds=5)).timestamp()} if camera_id == "cam-1" else {}

    pipeline = FramePipeline(fakes.detect, fakes.embed, fakes.decode, fakes.store, reuse_margin=0.1, reliable_face_px=48,
                             last_alerts=alerted_a_moment_ago)
    outcomes = [asyncio.run(pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.2 * i), FRAME)) for i in range(4)]
    assert not any(o.alerts for o in outcomes) and fakes.stored == []
    others = [asyncio.run(pipeline.run(live, "cam-2", t0 + timedelta(seconds=0.2 * i), FRAME)) for i in range(2)]
    assert [len(o.alerts) for o in others] == [0, 1]  # another camera: nothing in its log, so it alerts


def test_a_camera_s_frames_reach_its_tracks_in_the_order_they_came():
    """The second frame's detection ends first; it still waits for the first frame's tracks, so it reuses the
    embedding the first frame made (one embedding, not two) and the tracks' clock never runs backwards."""
    fakes = Fakes(PASSER_BY)
    live = live_deployment(TrackParams(hits_to_alert=2, reuse_s=1.0))
    order: list[str] = []
    slow = {0: 0.05, 1: 0.0}

    async def detect(body: bytes) -> DetectedFrame:
        n = len(order)
        order.append(f"detect {n}")
        await asyncio.sleep(slow[n])
        return await Fakes.detect(fakes, body)

    async def embed(crops: np.ndarray) -> list[Embedded]:
        order.append("embed")
        return await Fakes.embed(fakes, crops)

    pipeline = FramePipeline(detect, embed, fakes.decode, fakes.store, reuse_margin=0.1, reliable_face_px=48)
    t0 = datetime.now(UTC)

    async def both():
        return await asyncio.gather(pipeline.run(live, "cam-1", t0, FRAME),
                                    pipeline.run(live, "cam-1", t0 + timedelta(seconds=0.2), FRAME))

    first, second = asyncio.run(both())
    assert (first.embedded, second.embedded, second.reused) == (1, 0, 1) and fakes.embedded == 1
    assert order == ["detect 0", "detect 1", "embed"]
    assert len(pipeline.turns) == 0  # nothing kept once the camera has no frame in progress


def test_a_frame_that_fails_early_does_not_let_the_next_one_overtake():
    """Frames 1-3 of a camera: frame 2's detector fails at once; frame 3 still waits for frame 1."""
    from lfr_core.live.turns import CameraTurns

    async def scenario() -> list[str]:
        turns, log = CameraTurns(), []
        gate = asyncio.Event()

        async def frame(n: int, fail: bool) -> None:
            turn = turns.take("cam-1")
            try:
                if fail:
                    raise RuntimeError("detector down")
                if n == 1:
                    await gate.wait()
                await turn.wait()
                log.append(f"tracks {n}")
            except RuntimeError:
                log.append(f"failed {n}")
            finally:
                turn.done()

        tasks = [asyncio.create_task(frame(1, False)), asyncio.create_task(frame(2, True))]
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(frame(3, False)))
        await asyncio.sleep(0.01)
        gate.set()
        await asyncio.gather(*tasks)
        assert len(turns) == 0
        return log

    assert asyncio.run(scenario()) == ["failed 2", "tracks 1", "tracks 3"]
