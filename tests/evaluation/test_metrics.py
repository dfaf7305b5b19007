"""1:N metrics on synthetic scores with known answers."""

from __future__ import annotations

import math

import numpy as np

from lfr_core.evaluation.metrics import det_curve, fnir, fpir, project_false_alerts, rank1, summarise, threshold_at_fpir
from lfr_core.evaluation.run import split_identities


def test_fpir_counts_top_scores_at_or_above_threshold():
    nm = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    assert fpir(nm, 0.3) == 0.6
    assert fpir(nm, 0.51) == 0.0


def test_fnir_needs_rank_one_and_score_above_threshold():
    ms = np.array([0.9, 0.8, 0.6, 0.2, -math.inf])
    top = np.array([True, True, False, True, False])
    assert rank1(top) == 0.6
    assert math.isclose(fnir(ms, top, 0.5), 0.6)  # 0.6 is not rank 1, 0.2 below t, -inf failed
    assert math.isclose(fnir(ms, top, 0.0), 0.4)


def test_threshold_at_fpir_gives_exact_fpir_on_100_nonmated_searches():
    nm = np.linspace(0.0, 0.99, 100)
    rng = np.random.default_rng(3)
    nm = rng.permutation(nm)
    t, ok = threshold_at_fpir(nm, 0.01)
    assert ok and fpir(nm, t) == 0.01
    assert t > 0.98 and t <= 0.99
    t10, ok10 = threshold_at_fpir(nm, 0.1)
    assert ok10 and fpir(nm, t10) == 0.1
    t3, ok3 = threshold_at_fpir(nm, 0.001)
    assert not ok3 and fpir(nm, t3) == 0.0  # only "above every non-mated score" is possible


def test_summarise_reports_tpir_and_flags_insufficient_levels():
    nm = np.linspace(0, 0.5, 200)
    ms = np.concatenate([np.full(90, 0.9), np.full(10, 0.3)])
    top = np.ones(100, bool)
    s = summarise(nm, ms, top)
    assert s["rank1"] == 1.0
    assert math.isclose(s["fnir_at_fpir"]["0.1"], 0.1) and math.isclose(s["tpir_at_fpir"]["0.1"], 0.9)
    assert s["insufficient_nonmated"] == ["0.001"]
    assert s["lowest_achievable_fpir"] == 1 / 200


def test_det_curve_matches_pointwise_definitions():
    rng = np.random.default_rng(0)
    nm, ms = rng.normal(0.1, 0.1, 300), rng.normal(0.6, 0.15, 200)
    top = rng.random(200) > 0.05
    ts, fp, fn = det_curve(nm, ms, top)
    for i in (0, len(ts) // 3, len(ts) - 1):
        assert math.isclose(fp[i], fpir(nm, ts[i])) and math.isclose(fn[i], fnir(ms, top, ts[i]))


def test_projection_scales_fpir_with_watchlist_size():
    p = project_false_alerts(0.01, n_gallery=100, n_nonmated=1000, watchlist_size=1000, faces_seen=50_000)
    assert math.isclose(p["per_comparison_fmr"], 1e-4)
    assert math.isclose(p["fpir_at_watchlist"], 1 - (1 - 1e-4) ** 1000)
    assert math.isclose(p["false_alerts"], 50_000 * p["fpir_at_watchlist"])
    zero = project_false_alerts(0.0, n_gallery=100, n_nonmated=300, watchlist_size=100, faces_seen=1000)
    assert zero["false_alerts"] == 0.0 and zero["false_alerts_upper95"] > 0


def test_holdout_split_is_seeded_and_per_dataset():
    ids = {"a": [f"a{i}" for i in range(10)], "b": [f"b{i}" for i in range(5)]}
    h1, h2, h3 = split_identities(ids, 0.2, 0), split_identities(ids, 0.2, 0), split_identities(ids, 0.2, 1)
    assert h1 == h2 and len(h1) == 3 and len([x for x in h1 if x.startswith("b")]) == 1
    assert h1 != h3 or len(h1) == 0
