"""Where a frame becomes an alert: one async pipeline, run the same by Ray Serve, the bench loop and tests.

1. detect (a callable: the detector replicas, or the face engine in this process): each face's box and
   score, and its aligned crop if it passed the live quality gate; a fused detector (`vision.fused_detector`,
   a GPU replica running DevicePipeline) returns the gated face's embedding instead of its crop, so the crops
   never leave its device. A camera's frames are detected side by side, then take their turn at its tracks in
   the order they came (lfr_core/live/turns.py);
2. plan: a usable face that clearly continues a settled track reuses that track's embedding; the others
   are embedded (a callable again; not for faces the fused detector embedded, once its embedder is checked
   to be the list's), within a timeout, so a lost replica fails the frame fast;
3. match the fresh embeddings exactly against the active list, then update the camera's tracks, which
   decide when a track has earned an alert;
4. each alert is stored durably before the frame is answered (its row, audit record and probe crop; the
   crop waits in PostgreSQL while the object store is down: lfr_core/alerts/service.py), so no process's death
   loses an alert the camera was told about. With PostgreSQL down nothing can be stored: the decision is
   taken back, the track decides again on a later frame, and the camera is told the alert was not raised.
   The cooldown stands only for an alert stored. A camera new to these tracks (a new list, or a camera that
   moved from another ingress replica) starts with the cooldowns of its recent alerts, read from the alert
   log.

One FaceRecord per face carries everything about it through these steps. A face that matches nobody lives
only in those records and the tracker, and is never written anywhere. Each frame's faces are counted by whether
they could have been recognised (`size_bands`: refused by the gate, admitted below the reliable size, reliable):
four numbers, nothing of any one face.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import cv2
import numpy as np

from lfr_core.alerts.model import FaceBands
from lfr_core.alerts.service import NewAlert
from lfr_core.errors import InvalidInput, Service, Unavailable
from lfr_core.live.alert_storage import STORAGE_DOWN, PendingAlert, StoreAlert
from lfr_core.live.records import (
    DetectedFace,
    DetectedFrame,
    Embedded,
    FaceRecord,
    FrameOutcome,
    RaisedAlert,
    RefusedFrame,
)
from lfr_core.live.state import LiveDeployment
from lfr_core.live.turns import CameraTurns
from lfr_core.matching.matcher import ModelMismatch
from lfr_core.matching.tracker import Observation
from lfr_core.vision.engine import FaceEngine

if TYPE_CHECKING:
    import torch

    from lfr_core.vision.device_pipeline import DevicePipeline

Detect = Callable[[bytes], Awaitable[DetectedFrame | RefusedFrame]]
Embed = Callable[[np.ndarray], Awaitable[list[Embedded]]]  # one or more chunks, in the crops' order
Decode = Callable[[bytes], Awaitable[np.ndarray]]
LastAlerts = Callable[[object, str, datetime], Awaitable[dict[str, float]]]  # (deployment id, camera, since)


async def no_alerts_yet(deployment_id: object, camera_id: str, since: datetime) -> dict[str, float]:
    return {}

CROP_MARGIN = 0.25  # probe crop: the face box plus a quarter on each side, so the officer sees the head


class FrameRefused(InvalidInput):
    """The bytes are not a usable image (HTTP 400; FrameTooLarge, 413)."""

    def __init__(self, refused: RefusedFrame) -> None:
        super().__init__(f"frame refused ({refused.reason}): {refused.message}")
        self.reason = refused.reason

    @classmethod
    def of(cls, refused: RefusedFrame) -> FrameRefused:
        """The refusal the detector's reason calls for: too many bytes or pixels is FrameTooLarge."""
        return (FrameTooLarge if refused.reason in ("too_large", "too_many_pixels") else FrameRefused)(refused)


class FrameTooLarge(FrameRefused):
    """The image has more bytes or pixels than the live path takes (HTTP 413)."""


class ModelUnavailable(Unavailable):
    """A model replica failed or did not answer in time: the frame is dropped, the feed goes on (503). The
    message is the caller's line: it names the model and says the frame was dropped."""

    retry_after_s = 1  # another replica, or the same one a moment later, takes the next frame

    def brief(self) -> str:
        return str(self)


class DetectorModelMismatch(ModelMismatch):
    """A fused detector embedded the frame's faces with other weights than the deployment's list was made
    with (a detector replica rolled to other weights than the embedder's, or set up apart from it): the frame
    is refused (409), its embeddings never compared with the list's."""

    def __init__(self, detector_sha256: str | None, list_sha256: str) -> None:
        made_by = f"model {detector_sha256[:12]}" if detector_sha256 else "an unnamed model"
        super().__init__(f"the detector embedded this frame's faces with {made_by}, the deployment's list was made "
                         f"with {list_sha256[:12]}; frame refused: embeddings of different models are never "
                         "compared (give the detector and embedder replicas the same LFR_VISION__EMBEDDER_WEIGHTS)")


class AlertsNotRaised(Unavailable):
    """Storage is down (PostgreSQL): alerts the frame decided could not be stored, and their decisions are
    taken back, to be made again on a later frame; nothing of them is kept anywhere (503). `outcome.alerts`
    lists those of the frame that were stored before it failed. The message is the camera's line: it says
    the alerts were not raised."""

    def __init__(self, outcome: FrameOutcome, not_raised: int, cause: BaseException) -> None:
        service = cause.service if isinstance(cause, Unavailable) else Service.POSTGRESQL
        super().__init__(f"storage unavailable ({type(cause).__name__}); {not_raised} alert(s) not raised, decided "
                         f"again on a later frame" + (f"; {len(outcome.alerts)} raised" if outcome.alerts else ""),
                         service=service)
        self.outcome, self.not_raised = outcome, not_raised

    def brief(self) -> str:
        return str(self)


@dataclass(frozen=True)
class PipelineTimeouts:
    detect_s: float = 10.0
    embed_s: float = 10.0


def face_crop_jpeg(data: bytes, box: list[float] | None) -> bytes:
    """A stored image (the watchlist photograph) cropped as the probe crop is, so that the officer compares
    two faces framed alike; without a known box, the image unchanged."""
    if box is None:
        return data
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return data if image is None else probe_crop_jpeg(image, np.asarray(box, np.float32))


def probe_crop_jpeg(image: np.ndarray, box: np.ndarray) -> bytes:
    """The face box with a margin, as JPEG: what the officer compares with the watchlist image."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    mx, my = (x2 - x1) * CROP_MARGIN, (y2 - y1) * CROP_MARGIN
    x1, y1 = int(max(0, x1 - mx)), int(max(0, y1 - my))
    x2, y2 = int(min(w, x2 + mx)), int(min(h, y2 + my))
    ok, buf = cv2.imencode(".jpg", image[y1:y2, x1:x2], [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise RuntimeError("JPEG encoding of the probe crop failed")
    return buf.tobytes()


def detect_faces(engine: FaceEngine, images: list[np.ndarray]) -> list[list[DetectedFace]]:
    """Step 1 on decoded images: detect, gate on the detection (size, score) before aligning, align, gate on
    the crop. What a detector replica runs on its batch."""
    detected = engine.detector.detect_batch(images)
    passing = [[d for d in ds if not engine.quality.detection_reasons(d, purpose="live")] for ds in detected]
    if engine.align_device is not None:  # a GPU engine: the batch's faces in one warp on the device
        from lfr_core.vision.batch_align import align_frames

        aligned = align_frames(images, passing, device=engine.align_device)
    else:
        aligned = [[engine.aligner.align(im, d) for d in ds] for im, ds in zip(images, passing)]
    out = []
    for image, detections, kept, crops in zip(images, detected, passing, aligned):
        crop_of = {id(d): c for d, c in zip(kept, crops)}
        faces = []
        for d in detections:
            crop = crop_of.get(id(d))
            if crop is not None and not engine.quality.assess(image, d, crop, purpose="live").passed:
                crop = None
            faces.append(DetectedFace(d.box.astype(np.float32), float(d.score), crop))
        out.append(faces)
    return out


def fused_faces(pipeline: DevicePipeline, frames: list[np.ndarray | torch.Tensor]) -> list[list[DetectedFace]]:
    """Step 1 for a fused detector: DevicePipeline on decoded frames (device tensors as `device_decode` made them,
    or host BGR arrays) detects, gates, aligns and embeds on its device; each face that passed the live gate
    comes back with its embedding and no crop. What a fused detector replica runs on its batch."""
    return [[DetectedFace(f.box, f.score, None, f.embedding) for f in faces]
            for faces in pipeline.run(frames)]


def face_size(box: np.ndarray) -> float:
    """A face's size as the live gate measures it (Detection.size): its box's shorter side."""
    return float(min(box[2] - box[0], box[3] - box[1]))


def size_bands(faces: list[FaceRecord], reliable_face_px: int) -> FaceBands:
    """A frame's faces by whether they could have been recognised (`face_size`); a face without a crop was
    refused by the gate."""
    refused_small = refused_other = below = reliable = 0
    for f in faces:
        small = face_size(f.box) < reliable_face_px
        if not f.usable:
            refused_small, refused_other = refused_small + small, refused_other + (not small)
        else:
            below, reliable = below + small, reliable + (not small)
    return FaceBands(refused_small, refused_other, below, reliable)


class FramePipeline:
    def __init__(self, detect: Detect, embed: Embed, decode: Decode, store_alert: StoreAlert, *, reuse_margin: float,
                 reliable_face_px: int, min_face_px: int = 1, timeouts: PipelineTimeouts = PipelineTimeouts(),
                 last_alerts: LastAlerts = no_alerts_yet) -> None:
        """`reliable_face_px`: the face size from which the engine recognises reliably
        (lfr_core/deployments/cameras.py reliable_face_px), against which faces are counted, and `min_face_px`
        the detector's own gate (quality.min_live_face_px): each deployment's active version replaces both with
        the sizes it recorded (LiveDeployment.face_sizes; issue 32 item 2)."""
        self.detect, self.embed, self.decode = detect, embed, decode
        self.store_alert, self.last_alerts = store_alert, last_alerts
        self.reuse_margin = reuse_margin
        self.reliable_face_px = reliable_face_px
        self.min_face_px = min_face_px
        self.timeouts = timeouts
        self.turns = CameraTurns()

    async def run(self, live: LiveDeployment, camera_id: str, captured_at: datetime, body: bytes) -> FrameOutcome:
        """One frame of one camera, whose deployment's gate is open (the caller checked). Frames of a camera
        are detected side by side and reach its tracks one at a time, in the order they came (`turns`)."""
        outcome = FrameOutcome(faces=[])
        turn = self.turns.take((live.deployment["id"], camera_id))
        try:
            detected = await self._detect(body, outcome)
            self._check_embedder(live, detected)
            await turn.wait()
            if not live.tracker.knows(camera_id):  # new here: carry the camera's cooldowns from the alert log
                since = captured_at - timedelta(seconds=live.tracker.params.cooldown_s)
                live.tracker.seed(camera_id, await self.last_alerts(live.deployment["id"], camera_id, since))
            gate_px, reliable_px = live.face_sizes(self.min_face_px, self.reliable_face_px)
            # The deployment's gate: a face narrower than its gate size is refused like one the detector's gate
            # refused (its crop, or the fused detector's embedding, dropped here: never matched).
            outcome.faces = [FaceRecord(f.box, f.score, f.crop, embedding=f.embedding) if face_size(f.box) >= gate_px
                             else FaceRecord(f.box, f.score, None) for f in detected.faces]
            outcome.bands = size_bands(outcome.faces, reliable_px)
            outcome.reliable_face_px = reliable_px
            now = captured_at.timestamp()
            await self._embed_and_match(live, camera_id, now, outcome)
            observations = [self._observation(f, f.embedding) for f in outcome.faces if f.embedding is not None]
            seen = [f for f in outcome.faces if f.embedding is not None]
            for decision in live.tracker.update(camera_id, now, observations):
                seen[decision.index].decision = decision
            await self._raise_alerts(live, camera_id, captured_at, body, outcome)
        finally:
            turn.done()
        return outcome

    async def _detect(self, body: bytes, outcome: FrameOutcome) -> DetectedFrame:
        started = time.perf_counter()
        try:
            detected = await asyncio.wait_for(self.detect(body), self.timeouts.detect_s)
        except Exception as e:  # noqa: BLE001 - a replica lost or slow: this frame is dropped, not the feed
            raise ModelUnavailable(f"detector unavailable ({type(e).__name__}); frame dropped, retry shortly",
                                   service=Service.DETECTOR) from e
        if isinstance(detected, RefusedFrame):
            raise FrameRefused.of(detected)
        outcome.detect_s, outcome.detect_batch = time.perf_counter() - started, detected.batch_size
        return detected

    @staticmethod
    def _check_embedder(live: LiveDeployment, detected: DetectedFrame) -> None:
        """A fused detector's embeddings are used only when its embedder is the one the deployment's list was
        loaded for (its matcher carries the sha LiveDeployment.load checked): DetectorModelMismatch otherwise."""
        if detected.embedder_sha256 is None and all(f.embedding is None for f in detected.faces):
            return  # crops only: the embedder replicas embed them, with the model the list was loaded for
        matcher = live.matcher
        assert matcher is not None  # the gate the caller checked opens only with a matcher loaded
        if detected.embedder_sha256 != matcher.embedder_sha256:
            raise DetectorModelMismatch(detected.embedder_sha256, matcher.embedder_sha256)

    async def _embed_and_match(self, live: LiveDeployment, camera_id: str, now: float, outcome: FrameOutcome) -> None:
        matcher = live.matcher
        assert matcher is not None  # the gate the caller checked opens only with a matcher loaded
        usable = [f for f in outcome.faces if f.usable]
        reuse = live.tracker.reusable(camera_id, now, [f.box for f in usable],
                                      miss_below=matcher.threshold - self.reuse_margin)
        for face, r in zip(usable, reuse):
            face.reuse = r
            if r is not None:
                face.embedding = r.embedding
        fresh = [f for f in usable if f.reuse is None]
        if not fresh:
            return
        # Faces with a crop go to the embedder; those the fused detector embedded (checked: _check_embedder) not.
        to_embed = [f for f in fresh if f.embedding is None]
        if to_embed:
            await self._embed(to_embed, outcome)
        embeddings = np.stack([f.embedding for f in fresh if f.embedding is not None])  # all of them, now
        for face, top in zip(fresh, matcher.top1(embeddings)):
            face.top_score = top.score if top is not None else None
            face.match = top if top is not None and top.score >= matcher.threshold else None

    async def _embed(self, faces: list[FaceRecord], outcome: FrameOutcome) -> None:
        """The embedder's embedding of each face's crop, set on the face; timed in the outcome."""
        started = time.perf_counter()
        try:
            crops = np.stack([f.crop for f in faces if f.crop is not None])  # all of them: the faces have a crop
            chunks = await asyncio.wait_for(self.embed(crops), self.timeouts.embed_s)
        except Exception as e:  # noqa: BLE001 - as for the detector
            raise ModelUnavailable(f"embedder unavailable ({type(e).__name__}); frame dropped, retry shortly",
                                   service=Service.EMBEDDER) from e
        outcome.embed_s = time.perf_counter() - started
        outcome.embed_batches = [c.batch_size for c in chunks]
        for face, embedding in zip(faces, np.concatenate([c.embeddings for c in chunks]), strict=True):
            face.embedding = embedding

    @staticmethod
    def _observation(face: FaceRecord, embedding: np.ndarray) -> Observation:
        if face.reuse is not None:
            return Observation(face.box, embedding, track_id=face.reuse.track_id)
        m = face.match
        return Observation(face.box, embedding, m.subject_ref if m else None, m.score if m else 0.0, face.top_score)

    async def _raise_alerts(self, live: LiveDeployment, camera_id: str, captured_at: datetime, body: bytes,
                            outcome: FrameOutcome) -> None:
        decided = [(f, f.decision) for f in outcome.faces if f.decision is not None]
        if not decided:
            return
        image = await self.decode(body)  # decoded here only for the probe crops of alerts
        assert live.version is not None  # as the matcher (_embed_and_match): the gate was open
        for n, (face, d) in enumerate(decided):
            match = face.match
            assert match is not None  # the tracker decides only on a fresh observation that matched (Tracker.update)
            pending = PendingAlert(uuid.uuid4(), NewAlert(
                deployment_id=live.deployment["id"], version_id=live.version["id"], subject_ref=d.subject_ref,
                category=match.category, score=d.score, camera_id=camera_id, track_id=d.track_id,
                captured_at=captured_at, watchlist_image_uri=match.image_uri), probe_crop_jpeg(image, face.box))
            try:
                await self.store_alert(pending)
            except STORAGE_DOWN as e:  # not stored: nothing is kept, and the track is free to decide again
                for _, later in decided[n:]:
                    live.tracker.retract(camera_id, later)
                raise AlertsNotRaised(outcome, len(decided) - n, e) from e
            outcome.alerts.append(RaisedAlert(pending.alert_id, d.subject_ref, d.score, d.track_id))


def local_callables(engine: FaceEngine, *, max_pixels: int, max_bytes: int,
                    fused: DevicePipeline | None = None) -> tuple[Detect, Embed, Decode]:
    """Detect, embed and decode with the face engine in this process (the bench loop and the tests); with
    `fused`, detect as a fused detector replica does (`fused_faces`: embeddings, no crops, and the embedder's
    sha), so the embed callable is not called."""
    from lfr_core.vision.errors import ImageError, ModelError
    from lfr_core.vision.images import decode_image

    def decoded(body: bytes) -> np.ndarray:
        return decode_image(body, max_pixels=max_pixels, max_bytes=max_bytes)

    async def detect(body: bytes) -> DetectedFrame | RefusedFrame:
        try:
            image = decoded(body)
        except ImageError as e:
            return RefusedFrame(e.reason, str(e))
        if fused is not None:
            return DetectedFrame(fused_faces(fused, [image])[0],
                                 embedder_sha256=fused.identity["embedder"].weights_sha256)
        return DetectedFrame(detect_faces(engine, [image])[0])

    async def embed(crops: np.ndarray) -> list[Embedded]:
        if engine.embedder is None:
            raise ModelError("this engine was built without an embedder (build_engine(embed=False))")
        return [Embedded(engine.embedder.embed_batch(list(crops)))]

    async def decode(body: bytes) -> np.ndarray:
        return decoded(body)

    return detect, embed, decode
