"""Track, then decide: per-camera face tracks and the alert decision (pure logic, no I/O, no Ray).

A single frame's match is noisy; an alert needs a track (faces linked across frames by box overlap or
embedding similarity) with `hits_to_alert` matches above the version's threshold for the same subject.
A track alerts at most once per subject, and a (camera, subject) pair is quiet for `cooldown_s` after an
alert. Everything a track holds about a face (box, embedding) lives only in memory and is dropped when
the track ends (unseen for `max_age_s`).

Embedding reuse (`reuse_s` > 0): a face whose box clearly continues a track (IoU >= `reuse_iou`) that was
embedded less than `reuse_s` ago and whose verdict is settled (a clear miss, top-1 score below the
threshold minus a margin, or every matched subject already decided) need not be embedded again: the
caller asks `reusable()` before embedding and sends the face as a non-fresh observation. A non-fresh
observation keeps the track alive and moves its box but never counts as a hit, so the k-hit rule only
ever counts fresh embeddings; a track that has a hit pending is always embedded afresh. The cost: a
watchlisted face that appears in a settled track's place is seen at most `reuse_s` later.
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
    reuse_s: float = 0.0  # 0: every face is embedded in every frame
    reuse_iou: float = 0.5  # stricter than iou_link: reuse only where the box clearly continues the track

    @classmethod
    def from_settings(cls, track, *, reuse_s: float = 0.0, reuse_iou: float = 0.5) -> TrackParams:
        return cls(hits_to_alert=track.hits_to_alert, iou_link=track.iou_link, embed_link=track.embed_link,
                   max_age_s=track.max_age_s, cooldown_s=track.cooldown_s, reuse_s=reuse_s, reuse_iou=reuse_iou)


@dataclass(frozen=True)
class Observation:
    """One face in one frame: its box, embedding and (when above threshold) the subject it matched."""

    box: np.ndarray  # (x1, y1, x2, y2)
    embedding: np.ndarray  # L2-normalised
    subject_ref: str | None = None
    score: float = 0.0
    top_score: float | None = None  # top-1 similarity to any template, also below the threshold
    track_id: str | None = None  # set for a non-fresh observation: the track whose embedding it reuses


@dataclass(frozen=True)
class Reuse:
    """A face that need not be embedded: it continues `track_id`, whose recent embedding it may carry."""

    track_id: str
    embedding: np.ndarray


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
    embedded_at: float = float("-inf")  # time of the last fresh embedding
    top_score: float | None = None  # of the last fresh embedding; None: unknown, never reused
    hits: dict[str, int] = field(default_factory=dict)
    best: dict[str, float] = field(default_factory=dict)
    decided: set[str] = field(default_factory=set)  # subjects this track alerted or was suppressed for


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of `a` (n, 4) with every box of `b` (m, 4), as (n, m), in the boxes' own precision."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
    area_a, area_b = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]), (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def greedy_pairs(score: np.ndarray, candidate: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one (row, column) pairs among the candidates, best score first (ties: the later row, then the
    later column); a row or column already paired is passed over."""
    rows, cols = np.nonzero(candidate)
    pairs, used_rows, used_cols = [], set(), set()
    for k in np.lexsort((-cols, -rows, -score[rows, cols])):
        i, j = int(rows[k]), int(cols[k])
        if i not in used_rows and j not in used_cols:
            pairs.append((i, j))
            used_rows.add(i)
            used_cols.add(j)
    return pairs


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

    def reusable(self, now: float, boxes: list[np.ndarray], *, miss_below: float) -> list[Reuse | None]:
        """Per box, the settled track it clearly continues (see the module docstring), or None: embed it.

        `miss_below`: a track whose last fresh top-1 score is below this is a clear miss."""
        if self.params.reuse_s <= 0 or not self._tracks:
            return [None] * len(boxes)
        settled = [t for t in self._tracks
                   if 0 <= now - t.embedded_at < self.params.reuse_s and t.top_score is not None
                   and set(t.hits) <= t.decided and (t.top_score < miss_below or t.decided)]
        out: list[Reuse | None] = [None] * len(boxes)
        if not settled or not boxes:
            return out
        overlap = iou_matrix(np.stack(boxes), np.stack([t.box for t in settled]))
        for i, j in greedy_pairs(overlap, overlap >= self.params.reuse_iou):
            out[i] = Reuse(settled[j].track_id, settled[j].embedding)
        return out

    def _link(self, observations: list[Observation]) -> list[_Track | None]:
        """Greedy one-to-one assignment by the stronger of IoU and embedding similarity; a non-fresh
        observation goes to the track it was reused from (if that track is still there). Scored as matrices:
        a crowded scene has tens of faces against a hundred or more live tracks each frame."""
        by_id = {t.track_id: t for t in self._tracks}
        linked: list[_Track | None] = [None] * len(observations)
        used: set[int] = set()
        for i, obs in enumerate(observations):
            track = by_id.get(obs.track_id) if obs.track_id else None
            if track is not None and id(track) not in used:
                linked[i] = track
                used.add(id(track))
        if not observations or not self._tracks:
            return linked
        overlap = iou_matrix(np.stack([o.box for o in observations]), np.stack([t.box for t in self._tracks]))
        similarity = np.stack([o.embedding for o in observations]) @ np.stack([t.embedding for t in self._tracks]).T
        candidate = (overlap >= self.params.iou_link) | (similarity >= self.params.embed_link)
        candidate[[i for i, t in enumerate(linked) if t is not None]] = False
        candidate[:, [j for j, t in enumerate(self._tracks) if id(t) in used]] = False
        for i, j in greedy_pairs(np.maximum(overlap, similarity), candidate):
            linked[i] = self._tracks[j]
        return linked

    def update(self, now: float, observations: list[Observation]) -> list[AlertDecision]:
        self.expire(now)
        decisions: list[AlertDecision] = []
        for i, (obs, track) in enumerate(zip(observations, self._link(observations))):
            fresh = obs.track_id is None
            if track is None:
                track = _Track(f"{self.camera_id}:{next(self._ids)}", obs.box, obs.embedding, now)
                self._tracks.append(track)
            else:
                track.box, track.last_seen = obs.box, max(track.last_seen, now)
            if not fresh:
                continue  # a reused embedding is no new evidence: no hit, and the track's verdict stands
            track.embedding, track.embedded_at, track.top_score = obs.embedding, now, obs.top_score
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


    def retract(self, decision: AlertDecision) -> None:
        """Take back a decision whose alert could be neither stored nor held: the track decides again on its
        next hit, and the camera's cooldown for the subject (set by this decision) is lifted."""
        for track in self._tracks:
            if track.track_id == decision.track_id:
                track.decided.discard(decision.subject_ref)
                track.hits[decision.subject_ref] = self.params.hits_to_alert - 1
        self._cooldown.pop(decision.subject_ref, None)


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

    def reusable(self, camera_id: str, now: float, boxes: list[np.ndarray], *, miss_below: float) -> list[Reuse | None]:
        return self.camera(camera_id).reusable(now, boxes, miss_below=miss_below)

    def retract(self, camera_id: str, decision: AlertDecision) -> None:
        self.camera(camera_id).retract(decision)

    def knows(self, camera_id: str) -> bool:
        return camera_id in self._cameras

    def seed(self, camera_id: str, last_alerts: dict[str, float]) -> None:
        """A camera new to this tracker (a new list, or a camera that moved here from another replica) starts
        with the cooldowns of its recent alerts: subject -> capture time of its last alert on this camera."""
        self.camera(camera_id)._cooldown.update(last_alerts)

    def track_count(self) -> int:
        return sum(len(c) for c in self._cameras.values())
