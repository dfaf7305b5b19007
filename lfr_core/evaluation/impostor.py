"""The per-comparison impostor tail, and whether it resolves a list's false alerts (issue 32 item 5).

A list of N templates searched at threshold t alerts falsely on a face with FPIR(N) = 1 - (1 - p)^N, where p is
the rate at which one comparison of two different people scores t or more. At a target FPIR f that needs
p <= 1 - (1 - f)^(1/N) ~ f / N, and n impostor comparisons with none above t bound p only to about 3 / n (95%):
a list of 1,000 at 1% needs some 300,000 comparisons of different people. The non-mated searches a calibration
makes against its gallery (lfr_core/evaluation/calibration.py) are far fewer, so `lfr eval --record` also scores
every pair of images of different identities in the evaluation set and keeps, at a grid of thresholds, how many
pairs reached each with the 95% upper bound on p. A list is sealed only where that bound, at its threshold and
size, keeps FPIR within the target (`assess`); the database checks the same (lfr_core/db/policy/40_watchlist.sql,
lfr_evidence_resolves).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# Thresholds the tail is counted at: every cosine threshold a list may run at (match.threshold_min..max) lies
# in 0.20..0.80, and a threshold between two grid points is judged at the lower one (more pairs reach it).
GRID = tuple(round(0.20 + 0.01 * i, 2) for i in range(61))
CONFIDENCE = 0.95
FACES = 10_000  # false alerts are shown per this many faces seen


def upper_bound(exceed: int, pairs: int, confidence: float = CONFIDENCE) -> float:
    """One-sided upper confidence bound on a rare rate: the Poisson limit (the Clopper-Pearson limit as p -> 0,
    and never below it), which with no exceedance is -ln(1 - confidence) / n, the rule of three at 95%."""
    if pairs <= 0:
        return 1.0
    alpha = 1.0 - confidence
    ks = np.arange(exceed + 1, dtype=np.float64)
    log_fact = np.array([math.lgamma(k + 1.0) for k in ks]) if exceed < 10_000 else None

    def cdf(lam: float) -> float:
        if log_fact is None:  # normal approximation where the sum would be long; k is large there
            return 0.5 * math.erfc((lam - exceed - 0.5) / math.sqrt(2.0 * lam))
        return float(np.exp(ks * math.log(lam) - lam - log_fact).sum())

    low, high = float(exceed), float(exceed) + 10.0 * math.sqrt(exceed + 1.0) + 10.0
    for _ in range(100):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if cdf(mid) > alpha else (low, mid)
    return min(1.0, high / pairs)


@dataclass(frozen=True)
class TailPoint:
    """At `threshold`: impostor pairs scoring at or above it, their share, and the 95% upper bound on p."""

    threshold: float
    exceed: int
    rate: float
    upper: float


@dataclass(frozen=True)
class ImpostorTail:
    """Every pair of images of different identities in an evaluation set, scored once: `pairs` in all, the
    smallest rate they resolve (the bound with no exceedance, ~3 / pairs) and the tail at each grid threshold."""

    pairs: int
    resolvable: float
    points: tuple[TailPoint, ...]

    def at(self, threshold: float) -> TailPoint | None:
        """The point a list at `threshold` is judged by: the highest grid threshold not above it; None below the
        grid."""
        below = [p for p in self.points if p.threshold <= threshold + 1e-6]
        return below[-1] if below else None

    def to_json(self) -> dict[str, Any]:
        return {"pairs": self.pairs, "resolvable": self.resolvable, "points": [asdict(p) for p in self.points]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ImpostorTail:
        return cls(int(data["pairs"]), float(data["resolvable"]), tuple(TailPoint(**p) for p in data["points"]))


def impostor_tail(embeddings: np.ndarray, identities: Sequence[str], grid: Sequence[float] = GRID,
                  chunk: int = 2048) -> ImpostorTail:
    """Score every pair of rows of `embeddings` (unit vectors) whose identities differ, counted at `grid`, in
    blocks of `chunk` rows so that tens of thousands of images stay within memory."""
    x = np.asarray(embeddings, dtype=np.float32)
    labels = np.unique(np.asarray(identities), return_inverse=True)[1]
    edges = np.asarray(sorted(grid), dtype=np.float64)
    counts = np.zeros(edges.size, dtype=np.int64)
    pairs = 0
    n = x.shape[0]
    for start in range(0, n, chunk):
        block = x[start:start + chunk] @ x[start:].T
        rows = np.arange(start, min(start + chunk, n))[:, None]
        cols = np.arange(start, n)[None, :]
        keep = (cols > rows) & (labels[rows] != labels[cols])
        scores = np.sort(block[keep].astype(np.float64))
        pairs += scores.size
        counts += scores.size - np.searchsorted(scores, edges, side="left")
    points = tuple(TailPoint(float(t), int(k), float(k / pairs) if pairs else 0.0, upper_bound(int(k), pairs))
                   for t, k in zip(edges, counts))
    return ImpostorTail(pairs, upper_bound(0, pairs), points)


def required_rate(list_size: int, target_fpir: float) -> float:
    """The per-comparison rate at which a list of `list_size` keeps FPIR at `target_fpir`: 1 - (1 - f)^(1/N)."""
    return -math.expm1(math.log1p(-target_fpir) / max(list_size, 1))


def pairs_needed(list_size: int, target_fpir: float, confidence: float = CONFIDENCE) -> int:
    """Impostor pairs needed, none reaching the threshold, for the bound to show `target_fpir` at `list_size`."""
    return math.ceil(-math.log(1.0 - confidence) / required_rate(list_size, target_fpir))


def fpir(p: float, list_size: int) -> float:
    """Expected false-alert rate per face for a list of `list_size` at per-comparison rate p."""
    return -math.expm1(list_size * math.log1p(-min(p, 1.0 - 1e-15)))


@dataclass(frozen=True)
class Evidence:
    """Whether a list's threshold and size are resolved by the recorded impostor tail, and what it projects."""

    list_size: int
    target_fpir: float
    threshold: float
    calibration_id: int | None
    pairs: int
    per_comparison: float | None  # measured p at the grid point judged by; None without evidence
    per_comparison_upper: float | None
    false_alerts_per_10k: float | None
    false_alerts_per_10k_upper: float | None
    pairs_needed: int
    resolves: bool
    note: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        return cls(**data)

    def line(self) -> str:
        """One line for the approval body, `lfr watchlist show` and the report."""
        if self.false_alerts_per_10k_upper is None:
            return f"Expected false alerts per {FACES:,} faces at {self.list_size} templates: unknown ({self.note})"
        return (f"Expected false alerts per {FACES:,} faces at {self.list_size} templates: "
                f"{self.false_alerts_per_10k:.3g} (95% upper bound {self.false_alerts_per_10k_upper:.3g}; "
                f"target {self.target_fpir * FACES:.3g}), from {self.pairs:,} impostor pairs"
                + ("" if self.resolves else f": NOT RESOLVED: {self.note}"))


def assess(tail: ImpostorTail | None, calibration_id: int | None, threshold: float, list_size: int,
           target_fpir: float, model: str) -> Evidence:
    """Evidence for a list of `list_size` at `threshold`: resolved when the 95% bound on p at the threshold keeps
    FPIR(N) within `target_fpir`; otherwise a note that names the evidence missing."""
    needed = pairs_needed(list_size, target_fpir)
    advice = ("record a calibration on a larger evaluation set (lfr eval --record), shorten the list or raise the "
              "threshold, or an authoriser other than the builder records the decision to seal it anyway")
    if tail is None:
        return Evidence(list_size, target_fpir, threshold, calibration_id, 0, None, None, None, None, needed, False,
                        f"no calibration of {model} records an impostor tail; showing FPIR {target_fpir:g} for a "
                        f"list of {list_size} needs at least {needed:,} impostor pairs with none at or above "
                        f"{threshold:.4f}: {advice}")
    point = tail.at(threshold)
    if point is None:
        return Evidence(list_size, target_fpir, threshold, calibration_id, tail.pairs, None, None, None, None,
                        needed, False, f"threshold {threshold:.4f} lies below the recorded tail's lowest "
                                       f"({tail.points[0].threshold:.2f}): {advice}")
    fa, fa_upper = FACES * fpir(point.rate, list_size), FACES * fpir(point.upper, list_size)
    resolves = fa_upper <= FACES * target_fpir * (1 + 1e-9)
    if resolves:
        note = ""
    elif point.exceed == 0:
        note = (f"{tail.pairs:,} impostor pairs resolve a per-comparison rate of {tail.resolvable:.2g}, but a list "
                f"of {list_size} at FPIR {target_fpir:g} needs {required_rate(list_size, target_fpir):.2g}, "
                f"i.e. at least {needed:,} impostor pairs with none at or above {point.threshold:.2f}: {advice}")
    else:
        note = (f"{point.exceed:,} of {tail.pairs:,} impostor pairs reach {point.threshold:.2f} (p <= "
                f"{point.upper:.2g}), so a list of {list_size} may alert on up to {fa_upper / FACES:.2%} of faces "
                f"(target {target_fpir:g}); a list of this size needs p <= {required_rate(list_size, target_fpir):.2g}"
                f", at least {needed:,} impostor pairs with none above the threshold: {advice}")
    return Evidence(list_size, target_fpir, threshold, calibration_id, tail.pairs, point.rate, point.upper, fa,
                    fa_upper, needed, resolves, note)
