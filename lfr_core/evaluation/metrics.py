"""1:N identification metrics on score arrays (pure numpy), following NIST FRTE 1:N definitions.

* A mated search has its subject enrolled; a non-mated search does not.
* rank-1: share of mated searches whose top candidate is the right identity.
* FPIR(t): share of non-mated searches whose top score is >= t.
* FNIR(t): share of mated searches where the right identity is not returned at rank 1 with score >= t.
  Searches that produced no template (no face found) are misses: their scores are -inf.
* TPIR(t) = 1 - FNIR(t).
"""

from __future__ import annotations

import math

import numpy as np


def fpir(nonmated_top: np.ndarray, t: float) -> float:
    s = np.asarray(nonmated_top, dtype=np.float64)
    return float(np.mean(s >= t)) if s.size else float("nan")


def fnir(mated_score: np.ndarray, mated_is_top: np.ndarray, t: float) -> float:
    s = np.asarray(mated_score, dtype=np.float64)
    if not s.size:
        return float("nan")
    hit = np.asarray(mated_is_top, dtype=bool) & (s >= t)
    return float(1.0 - np.mean(hit))


def rank1(mated_is_top: np.ndarray) -> float:
    m = np.asarray(mated_is_top, dtype=bool)
    return float(np.mean(m)) if m.size else float("nan")


def threshold_at_fpir(nonmated_top: np.ndarray, target: float) -> tuple[float, bool]:
    """Lowest threshold with FPIR <= target, and whether the target is resolvable with this many searches.

    With n non-mated searches, FPIR moves in steps of 1/n: a target below 1/n can only be met by putting the
    threshold above every non-mated score, which bounds nothing (`sufficient` is then False).
    """
    s = np.sort(np.asarray(nonmated_top, dtype=np.float64)[np.isfinite(nonmated_top)])[::-1]
    n = len(np.asarray(nonmated_top))
    if n == 0:
        return float("nan"), False
    allowed = int(math.floor(target * n + 1e-9))
    sufficient = target * n >= 1.0
    if allowed >= len(s):
        return float("-inf") if len(s) == 0 else float(np.nextafter(s[-1], -np.inf)), sufficient
    return float(np.nextafter(s[allowed], np.inf)), sufficient


def det_curve(nonmated_top: np.ndarray, mated_score: np.ndarray, mated_is_top: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FPIR, FNIR) at every distinct finite score, thresholds ascending."""
    allv = np.concatenate([np.asarray(nonmated_top, np.float64), np.asarray(mated_score, np.float64)])
    ts = np.unique(allv[np.isfinite(allv)])
    nm = np.sort(np.asarray(nonmated_top, np.float64))
    fp = 1.0 - np.searchsorted(nm, ts, side="left") / max(len(nm), 1)
    hits = np.sort(np.asarray(mated_score, np.float64)[np.asarray(mated_is_top, bool)])
    n_mated = max(len(np.asarray(mated_score)), 1)
    fn = 1.0 - (len(hits) - np.searchsorted(hits, ts, side="left")) / n_mated
    return ts, fp, fn


def summarise(nonmated_top: np.ndarray, mated_score: np.ndarray, mated_is_top: np.ndarray,
              fpir_levels: tuple[float, ...] = (0.1, 0.01, 0.001)) -> dict:
    """rank-1 and, per FPIR level, the calibrated threshold with FNIR/TPIR and the FPIR actually achieved."""
    out: dict = {
        "rank1": rank1(mated_is_top),
        "n_mated": int(len(np.asarray(mated_score))),
        "n_nonmated": int(len(np.asarray(nonmated_top))),
        "lowest_achievable_fpir": (1.0 / len(nonmated_top)) if len(nonmated_top) else None,
        "threshold_at_fpir": {}, "fnir_at_fpir": {}, "tpir_at_fpir": {}, "fpir_achieved": {},
        "insufficient_nonmated": [],
    }
    for level in fpir_levels:
        key = f"{level:g}"
        t, ok = threshold_at_fpir(nonmated_top, level)
        if not ok:
            out["insufficient_nonmated"].append(key)
        if math.isnan(t):
            out["threshold_at_fpir"][key] = out["fnir_at_fpir"][key] = out["tpir_at_fpir"][key] = None
            out["fpir_achieved"][key] = None
            continue
        fn = fnir(mated_score, mated_is_top, t)
        out["threshold_at_fpir"][key] = t if math.isfinite(t) else None
        out["fnir_at_fpir"][key] = fn
        out["tpir_at_fpir"][key] = None if math.isnan(fn) else 1.0 - fn
        out["fpir_achieved"][key] = fpir(nonmated_top, t)
    return out


def fpir_at_list_size(per_comparison_fmr: float, list_size: int) -> float:
    """FPIR(N) = 1 - (1 - p)^N: a search raises a false alert if any of N independent comparisons does."""
    return 1.0 - (1.0 - per_comparison_fmr) ** list_size if list_size > 0 else 0.0


def project_false_alerts(fpir_measured: float, n_gallery: int, n_nonmated: int, watchlist_size: int,
                         faces_seen: int) -> dict:
    """Scale a measured FPIR to another watchlist size (see `lfr_core.evaluation.run` for the model).

    p = FPIR_measured / N_gallery per comparison; FPIR(N) = 1 - (1 - p)^N; alerts = F * FPIR(N).
    When no false positive was observed, p = 0 says little: the rule-of-three 95% upper bound on FPIR
    (3 / n_nonmated) is then projected alongside (`*_upper95`); otherwise those equal the point estimate.
    """
    p = fpir_measured / max(n_gallery, 1)
    fpir_n = fpir_at_list_size(p, watchlist_size)
    fpir_upper = fpir_measured if fpir_measured > 0 else (min(1.0, 3.0 / n_nonmated) if n_nonmated else 1.0)
    p_up = fpir_upper / max(n_gallery, 1)
    fpir_n_up = fpir_at_list_size(p_up, watchlist_size)
    return {
        "per_comparison_fmr": p,
        "watchlist_size": watchlist_size,
        "faces_seen": faces_seen,
        "fpir_at_watchlist": fpir_n,
        "false_alerts": faces_seen * fpir_n,
        "per_comparison_fmr_upper95": p_up,
        "false_alerts_upper95": faces_seen * fpir_n_up,
    }
