"""Error rates per group at one operating threshold, with confidence intervals a regulator can read.

Every group is measured at the same threshold, the one the system actually runs at (calibrated on all
non-mated searches, or given): recalibrating per group would set each group's FPIR to the target by
construction and hide exactly the differences this is for.

Intervals are 95% percentile bootstraps over identities, not images: the searches of one person are
correlated (same face, same camera, same day), so resampling images would make intervals too narrow.
Within a group, enrolled and held-out identities are drawn with replacement, each from its own kind (so every
replicate has mated and non-mated searches), and each replicate recomputes FNIR, FPIR, rank-1 and the
failure-to-enrol rate from the searches of the drawn identities. With one held-out identity in a group, its
FPIR interval has nothing to vary: `identities_nonmated` says how many there were.

The worst group has the highest rate, the best the lowest (ties: the one with more searches). Their ratio
is taken in every replicate as well, counting 0/0 as parity (1) and x/0 as unbounded, and a difference is
flagged only when the ratio's 95% interval excludes parity, i.e. the worst group's rate exceeds the best's in
at least 97.5% of replicates, and both groups rest on at least MIN_IDENTITIES_TO_FLAG identities. An
unbounded ratio or bound is reported as null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BOOTSTRAP_REPLICATES = 2000
# Below this many identities behind a rate, the bootstrap has (almost) nothing to resample: such a group is
# reported but never flagged (one held-out identity gives the same FPIR in every replicate).
MIN_IDENTITIES_TO_FLAG = 3
METRICS = ("fnir", "fpir", "rank1", "fte_rate")


@dataclass(frozen=True)
class Search:
    """One search as the evaluator scored it (numbers only, no template)."""

    identity: str
    group: str
    mated: bool
    score: float  # mated: the best score of the searcher's own identity; non-mated: the top score
    is_top: bool  # mated: the searcher's identity ranked first


@dataclass(frozen=True)
class Enrolment:
    """Whether an identity that was meant to be enrolled got at least one template."""

    identity: str
    group: str
    enrolled: bool


def _identity_counts(searches: list[Search], enrolments: list[Enrolment], threshold: float,
                     group: str) -> np.ndarray:
    """Per identity of `group`: mated, mated misses, rank-1 hits, non-mated, false positives, attempted, FTE."""
    ids: dict[str, np.ndarray] = {}
    for s in searches:
        if s.group != group:
            continue
        row = ids.setdefault(s.identity, np.zeros(7))
        if s.mated:
            row[0] += 1
            row[1] += not (s.is_top and s.score >= threshold)
            row[2] += s.is_top
        else:
            row[3] += 1
            row[4] += s.score >= threshold
    for e in enrolments:
        if e.group == group:
            row = ids.setdefault(e.identity, np.zeros(7))
            row[5] += 1
            row[6] += not e.enrolled
    return np.array(list(ids.values())) if ids else np.zeros((0, 7))


def _rates(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Rates from summed counts (the last axis holds the 7 counts of `_identity_counts`)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"fnir": sums[..., 1] / sums[..., 0], "fpir": sums[..., 4] / sums[..., 3],
                "rank1": sums[..., 2] / sums[..., 0], "fte_rate": sums[..., 6] / sums[..., 5]}


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def per_group(searches: list[Search], enrolments: list[Enrolment], threshold: float, *,
              replicates: int = BOOTSTRAP_REPLICATES, seed: int = 0) -> dict:
    """Each group's FNIR, FPIR, rank-1 and failure-to-enrol rate at `threshold`, with 95% intervals, and the
    worst-to-best ratio of FNIR and FPIR with its interval and a flag when the interval excludes parity."""
    rng = np.random.default_rng(seed)
    groups = sorted({s.group for s in searches} | {e.group for e in enrolments})
    out: dict = {"threshold": threshold, "bootstrap": f"{replicates} replicates over identities, 95% percentile",
                 "groups": {}}
    draws: dict[str, np.ndarray] = {}
    totals: dict[str, np.ndarray] = {}
    strata: dict[str, dict[str, int]] = {}  # identities behind each rate
    for g in groups:
        counts = _identity_counts(searches, enrolments, threshold, g)
        if len(counts) == 0:
            continue
        held_out = counts[:, 3] > 0
        boot = np.zeros((replicates, counts.shape[1]))
        for stratum in (counts[held_out], counts[~held_out]):
            if len(stratum):
                boot += stratum[rng.integers(0, len(stratum), size=(replicates, len(stratum)))].sum(axis=1)
        draws[g] = boot
        strata[g] = {"fnir": int((counts[:, 0] > 0).sum()), "fpir": int(held_out.sum())}
        total = totals[g] = counts.sum(axis=0)
        point, spread = _rates(total), _rates(boot)
        entry = {"identities": len(counts), "identities_nonmated": int(held_out.sum()), "n_mated": int(total[0]),
                 "n_nonmated": int(total[3]), "enrol_attempts": int(total[5]), "failures_to_enrol": int(total[6])}
        for m in METRICS:
            values = spread[m][np.isfinite(spread[m])]
            lo, hi = (np.percentile(values, [2.5, 97.5]) if values.size else (np.nan, np.nan))
            entry[m] = _finite(point[m])
            entry[f"{m}_ci95"] = [_finite(lo), _finite(hi)]
        out["groups"][g] = entry
    out["ratios"] = {m: _ratio(totals, draws, strata, m) for m in ("fnir", "fpir")}
    return out


def _ratio(totals: dict[str, np.ndarray], draws: dict[str, np.ndarray], strata: dict[str, dict[str, int]],
           metric: str) -> dict | None:
    """Worst over best group with its bootstrap interval; None with fewer than two measured groups."""
    size = 0 if metric == "fnir" else 3
    measured = {g: float(_rates(t)[metric]) for g, t in totals.items() if t[size] > 0}
    if len(measured) < 2:
        return None
    order = sorted(measured, key=lambda g: (measured[g], -totals[g][size]))
    best, worst = order[0], sorted(measured, key=lambda g: (measured[g], totals[g][size]))[-1]
    top, bottom = _rates(draws[worst])[metric], _rates(draws[best])[metric]
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.where((top == 0) & (bottom == 0), 1.0, top / bottom)
    boot = boot[~np.isnan(boot)]
    # No interpolation between replicates: an unbounded (inf) replicate must not turn a bound into NaN.
    lo, hi = np.quantile(boot, [0.025, 0.975], method="inverted_cdf") if boot.size else (np.nan, np.nan)
    point = 1.0 if measured[worst] == measured[best] == 0 else (
        measured[worst] / measured[best] if measured[best] else np.inf)
    enough = min(strata[worst][metric], strata[best][metric]) >= MIN_IDENTITIES_TO_FLAG
    return {"worst": worst, "best": best, f"{metric}_worst": measured[worst], f"{metric}_best": measured[best],
            "ratio": _finite(point), "ci95": [_finite(lo), _finite(hi)], "flag": bool(lo > 1.0 and enough),
            "identities": {worst: strata[worst][metric], best: strata[best][metric]},
            "testable": enough, "unbounded_as_null": True}
