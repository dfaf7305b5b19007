"""Per-group error rates at one operating threshold, intervals over identities, and track decisions."""

from __future__ import annotations

import numpy as np
import pytest

from lfr_core.evaluation.groups import Enrolment, Search, per_group
from lfr_core.evaluation.manifest import ManifestRow
from lfr_core.evaluation.metrics import threshold_at_fpir
from lfr_core.evaluation.tracks import track_fusion


def _population(rng, group: str, n_ids: int, nonmated_mean: float, per_id: int = 5) -> list[Search]:
    out = []
    for i in range(n_ids):
        held = i % 2 == 0
        for _ in range(per_id):
            if held:
                out.append(Search(f"{group}-{i}", group, False, float(rng.normal(nonmated_mean, 0.05)), False))
            else:
                out.append(Search(f"{group}-{i}", group, True, float(rng.normal(0.7, 0.05)), True))
    return out


def test_groups_are_compared_at_the_global_threshold_not_their_own():
    """Group B's impostors score higher: at the deployed threshold its FPIR is far above A's. Recalibrating
    per group would give both the target FPIR and hide it (the old `per_dataset` did)."""
    rng = np.random.default_rng(1)
    searches = _population(rng, "A", 200, 0.20) + _population(rng, "B", 200, 0.32)
    nonmated = np.array([s.score for s in searches if not s.mated])
    threshold, _ = threshold_at_fpir(nonmated, 0.05)
    result = per_group(searches, [], threshold, replicates=500)
    a, b = result["groups"]["A"], result["groups"]["B"]
    assert b["fpir"] > 0.05 > a["fpir"]
    ratio = result["ratios"]["fpir"]
    assert ratio["worst"] == "B" and ratio["best"] == "A" and ratio["flag"]
    assert ratio["ci95"][0] is None or ratio["ci95"][0] > 1  # None: unbounded, A made no error in any draw

    own = {g: threshold_at_fpir(np.array([s.score for s in searches if not s.mated and s.group == g]), 0.05)[0]
           for g in ("A", "B")}
    at_own = {g: per_group([s for s in searches if s.group == g], [], own[g], replicates=200)["groups"][g]["fpir"]
              for g in ("A", "B")}
    assert abs(at_own["A"] - at_own["B"]) < 0.02  # what per-group thresholds would have shown: parity


def test_no_flag_when_the_interval_includes_parity():
    rng = np.random.default_rng(2)
    searches = _population(rng, "A", 12, 0.25) + _population(rng, "B", 12, 0.25)
    result = per_group(searches, [], 0.33, replicates=500)
    assert not result["ratios"]["fpir"]["flag"]
    lo, hi = result["ratios"]["fpir"]["ci95"]
    assert lo <= 1 and (hi is None or hi >= 1)  # None: unbounded (the best group made no error in some draws)


def test_intervals_resample_identities_not_images():
    """The same errors concentrated in one identity give a wider interval than errors spread over many."""
    def group(concentrated: bool) -> list[Search]:
        out = []
        for i in range(20):
            for j in range(10):
                miss = (i == 0) if concentrated else (j == 0 and i < 10)
                out.append(Search(f"id{i}", "g", True, 0.2 if miss else 0.8, True))
        return out

    wide = per_group(group(True), [], 0.5, replicates=1000)["groups"]["g"]
    narrow = per_group(group(False), [], 0.5, replicates=1000)["groups"]["g"]
    assert wide["fnir"] == narrow["fnir"] == pytest.approx(0.05)
    assert wide["fnir_ci95"][1] - wide["fnir_ci95"][0] > 1.5 * (narrow["fnir_ci95"][1] - narrow["fnir_ci95"][0])


def test_failure_to_enrol_rate_per_group():
    enrolments = [Enrolment(f"a{i}", "A", i != 0) for i in range(4)] + [Enrolment(f"b{i}", "B", True) for i in range(4)]
    result = per_group([], enrolments, 0.4, replicates=200)
    assert result["groups"]["A"]["fte_rate"] == 0.25 and result["groups"]["B"]["fte_rate"] == 0.0
    assert result["groups"]["A"]["failures_to_enrol"] == 1


def _row(identity: str) -> ManifestRow:
    return ManifestRow(None, identity, identity, "d")


def test_track_rules_trade_fnir_for_fpir():
    # Identity 0 enrolled: frames top-1 at 0.6, 0.3 (below), 0.55. Held-out "x": one stray frame at 0.5.
    frames = {"p0": [np.array([0.6, 0.1]), np.array([0.3, 0.1]), np.array([0.55, 0.2])],
              "x": [np.array([0.1, 0.5]), np.array([0.1, 0.2]), np.array([0.2, 0.1])]}
    probes = [_row(i) for i, fs in frames.items() for _ in fs]
    scores = [s for fs in frames.values() for s in fs]
    result = track_fusion(probes, scores, {"x"}, {"p0": 0, "p1": 1}, threshold=0.45, length=3)
    rules = {r["rule"]: r for r in result["rules"]}
    assert (rules["k=1 of 3"]["fnir"], rules["k=1 of 3"]["fpir"]) == (0.0, 1.0)
    assert (rules["k=2 of 3"]["fnir"], rules["k=2 of 3"]["fpir"]) == (0.0, 0.0)
    assert (rules["k=3 of 3"]["fnir"], rules["k=3 of 3"]["fpir"]) == (1.0, 0.0)
    assert (rules["mean score"]["fnir"], rules["mean score"]["fpir"]) == (0.0, 0.0)  # mean 0.483 >= 0.45


def test_a_group_resting_on_one_held_out_identity_is_never_flagged():
    """One held-out identity gives the same FPIR in every replicate: no interval, so no verdict."""
    searches = [Search("a-held", "A", False, 0.5, False) for _ in range(30)]  # 30 searches, all false positives
    searches += [Search(f"b-held-{i}", "B", False, 0.1, False) for i in range(40)]
    result = per_group(searches, [], 0.4, replicates=300)
    ratio = result["ratios"]["fpir"]
    assert ratio["worst"] is None and not ratio["testable"] and not ratio["flag"]
    assert ratio["untestable"] == {"A": 1} and "cannot be compared" in ratio["verdict"]
    assert result["groups"]["A"]["identities_nonmated"] == 1


def _mated(rng, group: str, n_ids: int, miss_rate: float, per_id: int = 10) -> list[Search]:
    """Mated searches of `n_ids` identities, each search missed with probability `miss_rate`."""
    return [Search(f"{group}-{i}", group, True, 0.2 if rng.random() < miss_rate else 0.8, True)
            for i in range(n_ids) for _ in range(per_id)]


def test_a_tiny_group_with_rate_0_never_becomes_the_best():
    """Issue 31 item 3: a one-identity group with FNIR 0 made the ratio unbounded and hid a 3x difference."""
    rng = np.random.default_rng(3)
    searches = _mated(rng, "female", 60, 0.09) + _mated(rng, "male", 60, 0.03) + _mated(rng, "tiny", 1, 0.0)
    ratio = per_group(searches, [], 0.5, replicates=1000)["ratios"]["fnir"]
    assert (ratio["worst"], ratio["best"]) == ("female", "male")
    assert ratio["untestable"] == {"tiny": 1} and "tiny (1 identity)" in ratio["verdict"]
    assert ratio["ratio"] is not None and ratio["ratio"] > 2


def test_a_real_3x_difference_with_enough_identities_is_flagged():
    rng = np.random.default_rng(4)
    searches = _mated(rng, "female", 60, 0.09) + _mated(rng, "male", 60, 0.03)
    ratio = per_group(searches, [], 0.5, replicates=1000)["ratios"]["fnir"]
    assert ratio["flag"] and ratio["testable"]
    assert ratio["difference_ci95"][0] > 0 and ratio["ci95"][0] > 1
    assert ratio["difference"] == pytest.approx(ratio["fnir_worst"] - ratio["fnir_best"])
    assert ratio["verdict"].startswith(f"FNIR differs between female and male: {ratio['fnir_worst']:.3f} vs ")


def test_when_the_best_rate_is_0_the_difference_decides():
    rng = np.random.default_rng(5)
    searches = _mated(rng, "A", 40, 0.1) + _mated(rng, "B", 40, 0.0)
    ratio = per_group(searches, [], 0.5, replicates=1000)["ratios"]["fnir"]
    assert ratio["ratio"] is None  # unbounded
    assert ratio["flag"] and ratio["flagged_by"] == ["difference"] and ratio["difference_ci95"][0] > 0


def test_equal_rates_are_not_flagged():
    rng = np.random.default_rng(6)
    searches = _mated(rng, "female", 60, 0.05) + _mated(rng, "male", 60, 0.05)
    ratio = per_group(searches, [], 0.5, replicates=1000)["ratios"]["fnir"]
    assert ratio["testable"] and not ratio["flag"]
    assert ratio["difference_ci95"][0] <= 0 <= ratio["difference_ci95"][1]
    assert "does not differ significantly" in ratio["verdict"]


def test_worst_and_best_are_two_groups_even_when_all_rates_tie():
    searches = _mated(np.random.default_rng(9), "A", 10, 0.0) + _mated(np.random.default_rng(10), "B", 12, 0.0)
    ratio = per_group(searches, [], 0.5, replicates=200)["ratios"]["fnir"]
    assert {ratio["worst"], ratio["best"]} == {"A", "B"} and ratio["ratio"] == 1.0 and not ratio["flag"]


def test_the_bootstrap_is_seeded():
    searches = _mated(np.random.default_rng(7), "A", 20, 0.1) + _mated(np.random.default_rng(8), "B", 20, 0.05)
    assert per_group(searches, [], 0.5, replicates=300, seed=1) == per_group(searches, [], 0.5, replicates=300, seed=1)
