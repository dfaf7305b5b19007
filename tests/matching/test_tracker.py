"""The alert decision: track, then decide (pure, no services)."""

from __future__ import annotations

import numpy as np

from lfr_core.matching.tracker import CameraTracker, Observation, TrackParams, greedy_pairs, iou_matrix

PARAMS = TrackParams(hits_to_alert=3, iou_link=0.3, embed_link=0.5, max_age_s=2.0, cooldown_s=60.0)


def _emb(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


def _obs(x: float, seed: int, subject: str | None = None, score: float = 0.6) -> Observation:
    return Observation(np.array([x, 10, x + 50, 60], np.float32), _emb(seed), subject, score if subject else 0.0)


def test_alert_needs_k_hits_on_one_track():
    t = CameraTracker(PARAMS, camera_id="cam1")
    assert t.update(0.0, [_obs(0, 1, "S1")]) == []
    assert t.update(0.2, [_obs(2, 1, "S1")]) == []
    decisions = t.update(0.4, [_obs(4, 1, "S1", 0.7)])
    assert len(decisions) == 1 and decisions[0].subject_ref == "S1" and decisions[0].hits == 3
    assert decisions[0].score == np.float32(0.7) or abs(decisions[0].score - 0.7) < 1e-6


def test_hits_on_different_tracks_do_not_add_up():
    t = CameraTracker(PARAMS)
    for i in range(3):  # each frame a new far-away face with an unrelated embedding
        assert t.update(i * 0.1, [_obs(200.0 * i, 10 + i, "S1")]) == []
    assert len(t) == 3


def test_one_alert_per_person_per_track():
    t = CameraTracker(TrackParams(hits_to_alert=2, cooldown_s=0.0))
    alerts = [d for i in range(10) for d in t.update(i * 0.1, [_obs(i, 1, "S1")])]
    assert len(alerts) == 1


def test_cooldown_per_camera_and_subject():
    t = CameraTracker(TrackParams(hits_to_alert=1, max_age_s=1.0, cooldown_s=60.0))
    assert len(t.update(0.0, [_obs(0, 1, "S1")])) == 1
    # the track ends, the same person reappears as a new track inside the cooldown: no alert
    assert t.update(5.0, [_obs(300, 2, "S1")]) == []
    # another subject is not affected
    assert len(t.update(5.1, [_obs(100, 3, "S2")])) == 1
    # after the cooldown a new track alerts again
    assert len(t.update(70.0, [_obs(0, 4, "S1")])) == 1


def test_track_expiry_drops_state():
    t = CameraTracker(PARAMS)
    t.update(0.0, [_obs(0, 1), _obs(100, 2, "S1")])
    assert len(t) == 2
    assert t.expire(10.0) == 2 and len(t) == 0
    assert t._tracks == []  # boxes and embeddings of ended tracks are gone


def test_unmatched_faces_never_alert():
    t = CameraTracker(TrackParams(hits_to_alert=1))
    assert all(t.update(i * 0.1, [_obs(i, 1)]) == [] for i in range(5))


def test_faces_link_by_embedding_when_boxes_jump():
    t = CameraTracker(PARAMS)
    t.update(0.0, [_obs(0, 1, "S1")])
    t.update(0.3, [_obs(400, 1, "S1")])  # no overlap, same embedding: same track
    assert len(t) == 1
    assert len(t.update(0.6, [_obs(0, 1, "S1")])) == 1


REUSE = TrackParams(hits_to_alert=2, iou_link=0.3, embed_link=0.5, max_age_s=2.0, cooldown_s=60.0, reuse_s=0.5)


def _box(x: float) -> np.ndarray:
    return np.array([x, 10, x + 50, 60], np.float32)


def _fresh(x: float, seed: int, subject: str | None = None, top: float = 0.1) -> Observation:
    return Observation(_box(x), _emb(seed), subject, 0.6 if subject else 0.0, top)


def test_a_clear_miss_is_reused_only_within_reuse_s_and_never_hits():
    t = CameraTracker(REUSE, camera_id="cam1")
    t.update(0.0, [_fresh(0, 1, top=0.1)])
    [r] = t.reusable(0.2, [_box(2)], miss_below=0.26)
    assert r is not None
    assert t.update(0.2, [Observation(_box(2), r.embedding, track_id=r.track_id)]) == []
    assert t.reusable(0.2, [_box(300)], miss_below=0.26) == [None]  # another place: embed it
    assert t.reusable(0.6, [_box(2)], miss_below=0.26) == [None]  # reuse_s after the last fresh embedding
    assert t.reusable(0.2, [_box(2)], miss_below=0.05) == [None]  # not a clear miss


def test_a_track_with_a_pending_hit_is_always_embedded_afresh():
    t = CameraTracker(REUSE, camera_id="cam1")
    t.update(0.0, [_fresh(0, 1, "S1", top=0.6)])
    assert t.reusable(0.2, [_box(2)], miss_below=0.26) == [None]
    decisions = t.update(0.2, [_fresh(2, 1, "S1", top=0.6)])
    assert len(decisions) == 1 and decisions[0].hits == 2
    # decided: nothing more to learn from this track until reuse_s has passed
    assert t.reusable(0.4, [_box(4)], miss_below=0.26)[0] is not None


def test_reused_observations_never_complete_the_k_hits():
    t = CameraTracker(PARAMS, camera_id="cam1")  # reuse_s = 0: nothing is reusable
    assert t.reusable(0.1, [_box(0)], miss_below=0.26) == [None]
    t2 = CameraTracker(REUSE, camera_id="cam2")
    t2.update(0.0, [_fresh(0, 1, top=0.1)])
    [r] = t2.reusable(0.1, [_box(1)], miss_below=0.26)
    for k in range(5):  # a reused face carries no subject: however often it is seen, no alert
        assert t2.update(0.1 + 0.05 * k, [Observation(_box(1), r.embedding, "S1", 0.9, track_id=r.track_id)]) == []


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """One pair, written out: the reference the matrix form must equal."""
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def test_iou_matrix_equals_the_pairwise_overlap():
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, size=(9, 2)).astype(np.float32)
    a = np.hstack([xy, xy + rng.uniform(0, 60, size=(9, 2)).astype(np.float32)])
    b = np.vstack([a[:3] + 5, a[3:4], [[10, 10, 10, 10]]]).astype(np.float32)  # shifted, identical, empty
    m = iou_matrix(a, b)
    assert m.shape == (9, 5) and m.dtype == np.float32
    assert [[float(v) for v in row] for row in m] == [[_iou(x, y) for y in b] for x in a]
    assert m[3, 3] == 1.0 and not m[:, 4].any() and 0 < m[0, 0] < 1


def test_greedy_pairs_take_the_best_first_one_to_one_ties_to_the_later_index():
    score = np.array([[0.9, 0.8, 0.1],
                      [0.95, 0.5, 0.1],
                      [0.7, 0.7, 0.7]], np.float32)
    # reference: the (score, row, column) tuples sorted in reverse, each row and column taken once
    candidate = score >= 0.5
    expected, rows, cols = [], set(), set()
    for _, i, j in sorted(((score[i, j], i, j) for i, j in zip(*np.nonzero(candidate))), reverse=True):
        if i not in rows and j not in cols:
            expected.append((int(i), int(j)))
            rows.add(i)
            cols.add(j)
    assert greedy_pairs(score, candidate) == expected == [(1, 0), (0, 1), (2, 2)]
    tie = np.full((2, 2), 0.5, np.float32)
    assert greedy_pairs(tie, tie > 0) == [(1, 1), (0, 0)]
    assert greedy_pairs(score, np.zeros_like(candidate)) == []
