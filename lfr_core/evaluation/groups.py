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

Only groups whose rate rests on at least MIN_IDENTITIES_TO_FLAG identities (mated identities for FNIR,
held-out ones for FPIR) are compared; the others are listed as untestable with their counts. A group of one
or two identities with rate 0 would otherwise become the "best", make the ratio unbounded and hide a real
difference between the groups that can be tested. Among the testable groups the worst has the highest rate,
the best the lowest (ties: the one with more searches). Their ratio and their difference of rates are taken
in every replicate (counting 0/0 as parity, 1, and x/0 as unbounded), and the difference is flagged when
either 95% interval excludes parity: the ratio's lies above 1 or the difference's above 0. When the best
rate is 0 the ratio is unbounded and the difference decides. An unbounded ratio or bound is reported as null.
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


def bootstrap_sums(counts: np.ndarray, strata: tuple[np.ndarray, ...], replicates: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Column sums of per-identity `counts` (one row per identity) in each of `replicates` resamples: the
    identities of each stratum (a boolean mask over the rows) drawn with replacement from that stratum alone."""
    boot = np.zeros((replicates, counts.shape[1]))
    for mask in strata:
        stratum = counts[mask]
        if len(stratum):
            boot += stratum[rng.integers(0, len(stratum), size=(replicates, len(stratum)))].sum(axis=1)
    return boot


def interval95(replicated: np.ndarray) -> tuple[float | None, float | None]:
    """The 95% percentile interval of a rate over bootstrap replicates (those where it is defined)."""
    values = replicated[np.isfinite(replicated)]
    lo, hi = np.percentile(values, [2.5, 97.5]) if values.size else (np.nan, np.nan)
    return _finite(lo), _finite(hi)


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
        boot = bootstrap_sums(counts, (held_out, ~held_out), replicates, rng)
        draws[g] = boot
        strata[g] = {"fnir": int((counts[:, 0] > 0).sum()), "fpir": int(held_out.sum())}
        total = totals[g] = counts.sum(axis=0)
        point, spread = _rates(total), _rates(boot)
        entry = {"identities": len(counts), "identities_nonmated": int(held_out.sum()), "n_mated": int(total[0]),
                 "n_nonmated": int(total[3]), "enrol_attempts": int(total[5]), "failures_to_enrol": int(total[6])}
        for m in METRICS:
            entry[m] = _finite(point[m])
            entry[f"{m}_ci95"] = list(interval95(spread[m]))
        out["groups"][g] = entry
    out["ratios"] = {m: _ratio(totals, draws, strata, m) for m in ("fnir", "fpir")}
    return out


def _ratio(totals: dict[str, np.ndarray], draws: dict[str, np.ndarray], strata: dict[str, dict[str, int]],
           metric: str) -> dict | None:
    """Worst against best testable group: ratio and difference of rates with bootstrap intervals, the flag and
    a verdict in words; None with fewer than two measured groups."""
    size = 0 if metric == "fnir" else 3
    measured = {g: float(_rates(t)[metric]) for g, t in totals.items() if t[size] > 0}
    if len(measured) < 2:
        return None
    testable = [g for g in measured if strata[g][metric] >= MIN_IDENTITIES_TO_FLAG]
    untestable = {g: strata[g][metric] for g in sorted(measured) if g not in testable}
    base = {"min_identities": MIN_IDENTITIES_TO_FLAG, "untestable": untestable, "unbounded_as_null": True}
    if len(testable) < 2:
        return {**base, "worst": None, "best": None, "ratio": None, "ci95": [None, None], "difference": None,
                "difference_ci95": [None, None], "flag": False, "testable": False, "identities": {},
                "verdict": f"{metric.upper()} cannot be compared: fewer than two groups rest on at least "
                           f"{MIN_IDENTITIES_TO_FLAG} identities{_untestable_words(untestable)}"}
    best = min(testable, key=lambda g: (measured[g], -totals[g][size]))
    worst = max((g for g in testable if g != best), key=lambda g: (measured[g], totals[g][size]))
    top, bottom = _rates(draws[worst])[metric], _rates(draws[best])[metric]
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = np.where((top == 0) & (bottom == 0), 1.0, top / bottom)
    boot = boot[~np.isnan(boot)]
    # No interpolation between replicates: an unbounded (inf) replicate must not turn a bound into NaN.
    lo, hi = np.quantile(boot, [0.025, 0.975], method="inverted_cdf") if boot.size else (np.nan, np.nan)
    diff = (top - bottom)[np.isfinite(top - bottom)]
    d_lo, d_hi = np.quantile(diff, [0.025, 0.975], method="inverted_cdf") if diff.size else (np.nan, np.nan)
    point = 1.0 if measured[worst] == measured[best] == 0 else (
        measured[worst] / measured[best] if measured[best] else np.inf)
    # With a best rate of 0 the ratio is unbounded in most replicates: only the difference can decide.
    by_ratio = bool(measured[best] > 0 and lo > 1.0)
    by_difference = bool(d_lo > 0.0)
    flag = by_ratio or by_difference
    difference = measured[worst] - measured[best]
    if flag:
        words = f"{metric.upper()} differs between {worst} and {best}"
    else:
        words = f"{metric.upper()} does not differ significantly between {worst} and {best}"
    ratio_words = "unbounded" if not np.isfinite(point) else f"{point:.2g} ({_interval_words(lo, hi)})"
    verdict = (f"{words}: {measured[worst]:.3f} vs {measured[best]:.3f}, difference {difference:.2g} "
               f"({_interval_words(d_lo, d_hi)}), ratio {ratio_words}"
               f"{_untestable_words(untestable)}")
    return {**base, "worst": worst, "best": best, f"{metric}_worst": measured[worst],
            f"{metric}_best": measured[best], "ratio": _finite(point), "ci95": [_finite(lo), _finite(hi)],
            "difference": difference, "difference_ci95": [_finite(d_lo), _finite(d_hi)], "flag": flag,
            "flagged_by": [k for k, v in (("ratio", by_ratio), ("difference", by_difference)) if v],
            "identities": {worst: strata[worst][metric], best: strata[best][metric]}, "testable": True,
            "verdict": verdict}


def _interval_words(lo: float, hi: float) -> str:
    if np.isnan(lo):
        return "no interval"
    if np.isinf(lo):
        return "unbounded"
    upper = "unbounded" if not np.isfinite(hi) else f"{hi:.2g}"
    return f"{lo:.2g}{'-' if lo >= 0 else ' to '}{upper}"


def _untestable_words(untestable: dict[str, int]) -> str:
    if not untestable:
        return ""
    listed = ", ".join(f"{g} ({n} identit{'y' if n == 1 else 'ies'})" for g, n in untestable.items())
    return f"; not testable, too few identities: {listed}"
