"""What deciding over a track does to FNIR and FPIR, measured on still images.

Live matching decides per track, not per frame: a track alerts for a subject once `k` of its frames put that
subject first above the threshold (`track.hits_to_alert`). The evaluator imitates tracks with probe
sequences: `length` consecutive probe images of one identity stand for the frames of one track (mated when
the identity is enrolled, non-mated when it was held out). At one threshold it reports, for k = 1..length,
FNIR (the track never alerts for its own identity) and FPIR (a non-mated track alerts for anyone), and the
same for a fused track score: each identity's mean score over the track's frames, alerting for the best
identity when that mean reaches the threshold.

Still images of one person taken on different days vary more than consecutive video frames, so these figures
bound from above what fusion gains on video; a frame without a usable face counts as a frame without a hit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lfr_core.evaluation.manifest import ManifestRow


def _sequences(probes: Sequence[ManifestRow], scores: Sequence[np.ndarray | None], length: int):
    by_identity: dict[str, list[np.ndarray | None]] = {}
    for row, s in zip(probes, scores):
        by_identity.setdefault(row.identity, []).append(s)
    for identity, frames in by_identity.items():
        for start in range(0, len(frames) - length + 1, length):
            yield identity, frames[start:start + length]


def _k_hits(frames: list[np.ndarray | None], threshold: float) -> dict[int, int]:
    """Per identity index: frames whose top-1 is that identity at or above the threshold."""
    hits: dict[int, int] = {}
    for s in frames:
        if s is not None and s.size:
            top = int(np.argmax(s))
            if s[top] >= threshold:
                hits[top] = hits.get(top, 0) + 1
    return hits


def _fused(frames: list[np.ndarray | None], threshold: float) -> int | None:
    """The identity the mean score alerts for, if any."""
    usable = [s for s in frames if s is not None and s.size]
    if not usable:
        return None
    mean = np.mean(usable, axis=0)
    top = int(np.argmax(mean))
    return top if mean[top] >= threshold else None


def track_fusion(probes: Sequence[ManifestRow], scores: Sequence[np.ndarray | None], held: set[str],
                 index_of: dict[str, int], threshold: float, length: int = 3) -> dict:
    if length < 1 or not math.isfinite(threshold):
        return {"track_length": length, "threshold": None, "rules": []}
    outcomes: dict[str, list[tuple[bool, bool]]] = {f"k={k} of {length}": [] for k in range(1, length + 1)}
    outcomes["mean score"] = []
    for identity, frames in _sequences(probes, scores, length):
        mated = identity not in held
        own = index_of.get(identity)
        hits = _k_hits(frames, threshold)
        fused = _fused(frames, threshold)
        for k in range(1, length + 1):
            alerted = {i for i, n in hits.items() if n >= k}
            outcomes[f"k={k} of {length}"].append((mated, (own in alerted) if mated else bool(alerted)))
        outcomes["mean score"].append((mated, (fused == own and own is not None) if mated else fused is not None))
    rules = []
    for rule, results in outcomes.items():
        mated_ok = [ok for m, ok in results if m]
        nonmated_alert = [a for m, a in results if not m]
        rules.append({"rule": rule, "n_mated": len(mated_ok), "n_nonmated": len(nonmated_alert),
                      "fnir": 1.0 - float(np.mean(mated_ok)) if mated_ok else None,
                      "fpir": float(np.mean(nonmated_alert)) if nonmated_alert else None})
    return {"track_length": length, "threshold": threshold, "rules": rules}
