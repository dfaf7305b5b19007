"""`lfr eval --record` stores a calibration; the transparency report projects false alerts with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.evaluation import calibration, conditions
from lfr_core.evaluation.impostor import upper_bound
from lfr_core.evaluation.model import ConditionCurve
from lfr_core.evaluation.run import IMPOSTOR_REPORTED
from lfr_core.reporting import reports
from tests.conftest import signed_in_env
from tests.rows import insert_deployment, insert_version
from tests.security.conftest import superuser


@pytest.fixture()
def small_manifest(tmp_path, shared_dir):
    faces = shared_dir / "data" / "faces"
    rows = ["path,identity,dataset,note"]
    for subject in ("s1", "s2", "s3", "s4", "s5", "s6"):
        for i in (1, 2, 3):
            rows.append(f"{os.path.relpath(faces / 'orl' / subject / f'{i}.pgm', tmp_path)},orl_{subject},orl,")
    path = tmp_path / "manifest.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_recorded_calibration_drives_the_report_projection(services, db, small_manifest, face_engine):
    result = subprocess.run(
        [sys.executable, "-m", "lfr_ops.cli.main", "eval", "--manifest", str(small_manifest), "--json",
         "--holdout-share", "0.34", "--conditions", "size=32", "--record"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **signed_in_env(services, "ada.admin")})
    assert result.returncode == 0, result.stderr
    evaluated = json.loads(result.stdout.strip().splitlines()[-1])
    sha = evaluated["model"]["embedder"]["weights_sha256"]
    assert sha == face_engine.embedder.identity.weights_sha256 and evaluated["calibration_id"] > 0

    stored = db.execute("SELECT * FROM model_calibrations WHERE id = %s", (evaluated["calibration_id"],)).fetchone()
    n_nonmated, n_gallery = len(stored["nonmated_top_scores"]), stored["n_gallery"]
    assert n_nonmated == evaluated["n_nonmated"] and n_gallery == evaluated["protocol"]["enrolled"]
    # The equitability verdict is kept with the calibration (one group here: nothing to compare).
    assert stored["summary"]["equitability"] == {"group_by": "dataset", "threshold": evaluated["per_group"]["threshold"],
                                                 "ratios": evaluated["per_group"]["ratios"]}
    # Every non-mated search reaches threshold -1: p is FPIR 1.0 spread over the gallery.
    assert calibration.per_comparison_fmr(db, sha, -1.0)["per_comparison_fmr"] == pytest.approx(1 / n_gallery)
    # None reaches 1.0: the rule-of-three bound stands in, never zero.
    strict = calibration.per_comparison_fmr(db, sha, 1.0)
    assert strict["per_comparison_fmr"] == pytest.approx(3 / n_nonmated / n_gallery) and "rule-of-three" in strict["bound"]
    assert calibration.per_comparison_fmr(db, "f" * 64, 0.3) is None
    # The curve under --conditions is kept with the model's identity and names the calibration recorded with it.
    curve = conditions.latest(db, sha)
    assert curve is not None and curve.id == evaluated["condition_curve_id"]
    assert curve.calibration_id == evaluated["calibration_id"]
    assert curve.curve == ConditionCurve.from_json(evaluated["conditions"])
    assert [p.condition.face_px for p in curve.curve.points] == [None, 32]
    # Every pair of images of different identities is scored once: the tail is kept with its bound (issue 32
    # item 5), at most 6 * 5 / 2 * 3 * 3 pairs of 18 images, fewer where a face was not found.
    impostor = evaluated["impostor"]
    assert stored["impostor_pairs"] == impostor["pairs"] and 0 < impostor["pairs"] <= 135
    assert impostor["resolvable_rate"] == pytest.approx(upper_bound(0, impostor["pairs"]))
    counts = [p["exceed"] for p in stored["impostor_tail"]]
    assert counts == sorted(counts, reverse=True) and counts[0] <= impostor["pairs"]
    assert [t["exceed"] for t in impostor["tail"]] == [p["exceed"] for p in stored["impostor_tail"]
                                                       if p["threshold"] in IMPOSTOR_REPORTED]

    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now - timedelta(hours=2), window_end=now - timedelta(hours=1))
    version = insert_version(db, deployment, state="expired", accepted=4, activated_at=now - timedelta(hours=2))
    db.commit()
    with superuser(services) as admin:  # a version's model never changes once built: this one is forged
        admin.execute("UPDATE watchlist_versions SET embedder_sha256 = %s WHERE id = %s", (sha, version))
    db.execute("INSERT INTO deployment_counters (deployment_id, camera_id, frames, faces_seen) VALUES (%s, 'c1', 10, 1000)",
               (deployment,))
    db.commit()
    report = reports.build_report(db, str(deployment))
    expected = calibration.per_comparison_fmr(db, sha, 0.363)["per_comparison_fmr"]
    assert report["false_alerts"]["per_comparison_fmr"] == pytest.approx(expected)
    assert report["false_alerts"]["projected"] == pytest.approx(1000 * (1 - (1 - expected) ** 4))
    assert f"calibration #{evaluated['calibration_id']}" in report["false_alerts"]["projection_source"]

    # The equitability section: per-group rates at the deployment's threshold, from the recorded searches.
    equity = report["equitability"]
    assert equity["group_by"] == "dataset" and equity["threshold"] == pytest.approx(0.363)
    assert equity["groups"]["orl"]["n_mated"] == evaluated["per_group"]["groups"]["orl"]["n_mated"]
    assert f"calibration #{evaluated['calibration_id']}" in equity["source"]
    markdown = reports.render_markdown(report)
    assert "## Equitability" in markdown and "| orl |" in markdown
    assert not any(name in json.dumps(stored["searches"]) for name in ("orl_s1", "orl_s2")), "identities pseudonymised"
