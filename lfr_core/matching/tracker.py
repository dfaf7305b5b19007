"""Track, then decide: per-camera face tracks and the alert decision (pure logic, no I/O, no Ray).

A single frame's match is noisy; an alert needs a track (faces linked across frames by box overlap or
embedding similarity) with `hits_to_alert` matches above the version's threshold for the same subject.
A track alerts at most once per subject, and a (camera, subject) pair is quiet for `cooldown_s` after an
alert. Everything a track holds about a face (box, embedding) lives only in memory and is dropped when
the track ends (unseen for `max_age_s`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TrackParams:
    hits_to_alert: int = 2
    iou_link: float = 0.3
    embed_link: float = 0.5
    max_age_s: float = 2.0
    cooldown_s: float = 60.0

    @classmethod
    def from_settings(cls, track) -> TrackParams:
        return cls(hits_to_alert=track.hits_to_alert, iou_link=track.iou_link, embed_link=track.embed_link,
                   max_age_s=track.max_age_s, cooldown_s=track.cooldown_s)


@dataclass(frozen=True)
class Observation:
    """One face in one frame: its box, embedding and (when above threshold) the subject it matched."""

    box: np.ndarray  # (x1, y1, x2, y2)
    embedding: np.ndarray  # L2-normalised
    subject_ref: str | None = None
    score: float = 0.0


@dataclass(frozen=True)
class AlertDecision:
    index: int  # position of the observation in the update's list
    track_id: str
    subject_ref: str
    score: float  # best score of the track for this subject
    hits: int


@dataclass
class _Track:
    track_id: str
    box: np.ndarray
    embedding: np.ndarray
    last_seen: float
    hits: dict[str, int] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)  # subjects this track alerted or was suppressed for


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


class CameraTracker:
    """Tracks of one camera. `update` is called once per frame, in capture-time order."""

    def __init__(self, params: TrackParams, *, camera_id: str = "") -> None:
        self.params = params
        self.camera_id = camera_id
        self._tracks: list[_Track] = []
        self._cooldown: dict[str, float] = {}  # subject_ref -> time of the last alert on this camera
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._tracks)

    def expire(self, now: float) -> int:
        """Drop tracks unseen for max_age_s (and their boxes and embeddings); returns how many ended."""
        keep = [t for t in self._tracks if now - t.last_seen <= self.params.max_age_s]
        ended = len(self._tracks) - len(keep)
        self._tracks = keep
        self._cooldown = {s: t for s, t in self._cooldown.items() if now - t < self.params.cooldown_s}
        return ended

    def _link(self, observations: list[Observation]) -> list[_Track | None]:
        """Greedy one-to-one assignment by the stronger of IoU and embedding similarity."""
        pairs = []
        for i, obs in enumerate(observations):
            for j, track in enumerate(self._tracks):
                overlap = iou(obs.box, track.box)
                similarity = float(np.dot(obs.embedding, track.embedding))
                if overlap >= self.params.iou_link or similarity >= self.params.embed_link:
                    pairs.append((max(overlap, similarity), i, j))
        linked: list[_Track | None] = [None] * len(observations)
        used: set[int] = set()
        for _, i, j in sorted(pairs, reverse=True):
            if linked[i] is None and j not in used:
                linked[i] = self._tracks[j]
                used.add(j)
        return linked

    def update(self, now: float, observations: list[Observation]) -> list[AlertDecision]:
        self.expire(now)
        decisions: list[AlertDecision] = []
        for i, (obs, track) in enumerate(zip(observations, self._link(observations))):
            if track is None:
                track = _Track(f"{self.camera_id}:{next(self._ids)}", obs.box, obs.embedding, now)
                self._tracks.append(track)
            else:
                track.box, track.embedding, track.last_seen = obs.box, obs.embedding, now
            subject = obs.subject_ref
            if subject is None or subject in track.decided:
                continue
            track.hits[subject] = track.hits.get(subject, 0) + 1
            track.best[subject] = max(track.best.get(subject, -1.0), obs.score)
            if track.hits[subject] < self.params.hits_to_alert:
                continue
            track.decided.add(subject)
            last = self._cooldown.get(subject)
            if last is not None and now - last < self.params.cooldown_s:
                continue  # same person, same camera, recently alerted: suppressed for this track
            self._cooldown[subject] = now
            decisions.append(AlertDecision(i, track.track_id, subject, track.best[subject], track.hits[subject]))
        return decisions


class Tracker:
    """All cameras of one deployment (or of the whole ingress): one CameraTracker per camera id."""

    def __init__(self, params: TrackParams) -> None:
        self.params = params
        self._cameras: dict[str, CameraTracker] = {}

    def camera(self, camera_id: str) -> CameraTracker:
        if camera_id not in self._cameras:
            self._cameras[camera_id] = CameraTracker(self.params, camera_id=camera_id)
        return self._cameras[camera_id]

    def update(self, camera_id: str, now: float, observations: list[Observation]) -> list[AlertDecision]:
        return self.camera(camera_id).update(now, observations)

    def track_count(self) -> int:
        return sum(len(c) for c in self._cameras.values())
