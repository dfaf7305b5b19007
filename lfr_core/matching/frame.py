"""One live frame, step by step, the same wherever it runs (the Serve replicas, the single-process bench loop).

1. `live_faces`: detect, gate on the detection (size, score) before aligning, align, gate on the crop.
2. `plan_embeddings`: which usable faces continue a settled track (reuse) and which must be embedded.
3. the caller embeds the fresh crops (locally, or on embedder replicas).
4. `observe`: exact matching of the fresh embeddings, observations for the tracker (fresh and reused).
Nothing here stores anything: a face that matches nobody lives only in these lists and the tracker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lfr_core.matching.matcher import ExactMatcher, Match
from lfr_core.matching.tracker import Tracker, Observation, Reuse
from lfr_core.vision.engine import FaceEngine


@dataclass
class LiveFace:
    box: np.ndarray  # float32 (x1, y1, x2, y2)
    score: float
    crop: np.ndarray | None  # aligned 112x112 crop; None when the live gate dropped the face


def live_faces(engine: FaceEngine, images: list[np.ndarray]) -> list[list[LiveFace]]:
    out = []
    for image, detections in zip(images, engine.detector.detect_batch(images)):
        faces = []
        for d in detections:
            crop = None
            if not engine.quality.detection_reasons(d, purpose="live"):
                crop = engine.aligner.align(image, d)
                if not engine.quality.assess(image, d, crop, purpose="live").passed:
                    crop = None
            faces.append(LiveFace(d.box.astype(np.float32), float(d.score), crop))
        out.append(faces)
    return out


@dataclass
class EmbeddingPlan:
    usable: list[int]  # indices of faces that passed the live gate
    reuse: list[Reuse | None]  # per usable face
    fresh: list[int]  # indices of faces to embed now


def plan_embeddings(tracker: Tracker, camera_id: str, now: float, boxes: list[np.ndarray],
                    crops_present: list[bool], matcher: ExactMatcher, reuse_margin: float) -> EmbeddingPlan:
    usable = [i for i, present in enumerate(crops_present) if present]
    reuse = tracker.reusable(camera_id, now, [boxes[i] for i in usable], miss_below=matcher.threshold - reuse_margin)
    return EmbeddingPlan(usable, reuse, [i for i, r in zip(usable, reuse) if r is None])


@dataclass
class FrameObservations:
    observations: list[Observation]
    matches: list[Match | None]  # per observation: the above-threshold match of a fresh embedding
    face_of: list[int]  # per observation: the index of its face in the frame


def observe(plan: EmbeddingPlan, boxes: list[np.ndarray], embeddings: np.ndarray,
            matcher: ExactMatcher) -> FrameObservations:
    """Match the fresh embeddings (in plan.fresh order) and add the reused faces."""
    observations: list[Observation] = []
    matches: list[Match | None] = []
    if plan.fresh:
        for i, e, top in zip(plan.fresh, embeddings, matcher.top1(embeddings)):
            m = top if top is not None and top.score >= matcher.threshold else None
            observations.append(Observation(boxes[i], e, m.subject_ref if m else None, m.score if m else 0.0,
                                            top.score if top is not None else None))
            matches.append(m)
    reused = [(i, r) for i, r in zip(plan.usable, plan.reuse) if r is not None]
    for i, r in reused:
        observations.append(Observation(boxes[i], r.embedding, track_id=r.track_id))
        matches.append(None)
    return FrameObservations(observations, matches, plan.fresh + [i for i, _ in reused])


def process_frame(engine: FaceEngine, image: np.ndarray, tracker: Tracker, camera_id: str, now: float,
                  matcher: ExactMatcher, reuse_margin: float) -> dict[str, Any]:
    """The whole frame in one process (what the Serve app does across its replicas)."""
    faces = live_faces(engine, [image])[0]
    boxes = [f.box for f in faces]
    plan = plan_embeddings(tracker, camera_id, now, boxes, [f.crop is not None for f in faces], matcher, reuse_margin)
    embeddings = engine.embedder.embed_batch([faces[i].crop for i in plan.fresh]) if plan.fresh else np.zeros((0, matcher.dim))
    seen = observe(plan, boxes, embeddings, matcher)
    decisions = tracker.update(camera_id, now, seen.observations)
    return {"faces": len(faces), "embedded": len(plan.fresh), "decisions": decisions, "matches": seen.matches,
            "face_of": seen.face_of}
