"""`lfr eval` end to end on a small manifest built from the shared faces."""

from __future__ import annotations

import json
import os

import pytest
import typer
from typer.testing import CliRunner

from lfr_ops.cli import eval_cmd


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    eval_cmd.register(a)

    @a.command("noop")  # typer collapses a one-command app; keep `eval` a named subcommand
    def _noop() -> None: ...

    return a


def _write_manifest(tmp_path, faces_dir) -> str:
    rows = ["path,identity,dataset,note"]
    for s in ("s1", "s2", "s3", "s4", "s5"):
        for i in (1, 2, 3):
            rows.append(f"{os.path.relpath(faces_dir / 'orl' / s / f'{i}.pgm', tmp_path)},orl_{s},orl,")
    for i in (1, 2, 4):
        rows.append(f"{os.path.relpath(faces_dir / 'deepface' / f'img{i}.jpg', tmp_path)},df_11,deepface,")
    rows.append(f"{os.path.relpath(faces_dir / 'orl' / 's6' / '1.pgm', tmp_path)},,orl,skipped: no identity")
    m = tmp_path / "manifest.csv"
    m.write_text("\n".join(rows) + "\n")
    return str(m)


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_eval_cli_json_last_line_has_the_metrics(app, tmp_path, faces_dir):
    manifest = _write_manifest(tmp_path, faces_dir)
    plot = tmp_path / "det.png"
    r = CliRunner().invoke(app, ["eval", "--manifest", manifest, "--json", "--holdout-share", "0.34", "--seed", "0",
                                 "--watchlist-size", "1000", "--faces-seen", "5000", "--plot", str(plot)])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    for key in ("rank1", "fnir_at_fpir", "threshold_at_fpir", "tpir_at_fpir", "failures_to_enrol", "per_dataset",
                "model", "projection"):
        assert key in res
    assert set(res["fnir_at_fpir"]) == {"0.1", "0.01", "0.001"}
    assert res["protocol"]["images"] == 18 and res["protocol"]["identities"] == 6
    assert res["protocol"]["held_out_identities"] == 2  # round(0.34 * 5) orl ids; the lone deepface id stays
    assert res["n_mated"] + res["n_nonmated"] + res["protocol"]["enrolled"] == 18
    assert res["rank1"] >= 0.9
    assert res["model"]["embedder"]["name"] == "sface"
    assert res["projection"]["watchlist_size"] == 1000 and res["projection"]["faces_seen"] == 5000
    assert "0.001" in res["insufficient_nonmated"]
    assert plot.stat().st_size > 1000
    groups = res["per_group"]
    assert groups["group_by"] == "dataset" and set(groups["groups"]) == {"orl", "deepface"}
    assert groups["threshold"] == res["calibrated"]["threshold"]  # one operating threshold for every group
    for g in groups["groups"].values():
        assert set(g) >= {"fnir", "fnir_ci95", "fpir", "fpir_ci95", "rank1", "rank1_ci95", "fte_rate", "fte_rate_ci95"}
    fnir = groups["ratios"]["fnir"]  # the lone deepface identity is listed, never compared
    assert fnir["untestable"] == {"deepface": 1} and not fnir["testable"] and not fnir["flag"]
    assert fnir["verdict"] in r.stdout
    gate = res["enrolment_quality_by_group"]["orl"]
    assert gate["identities"] == 3 and gate["images_attempted"] >= 3
    assert gate["rejection_rate"] == gate["rejected_images"] / gate["images_attempted"]
    assert [r["rule"] for r in res["track_fusion"]["rules"]] == ["k=1 of 3", "k=2 of 3", "k=3 of 3", "mean score"]


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_eval_cli_enrols_several_images_and_groups_by_any_column(app, tmp_path, faces_dir):
    manifest = _write_manifest(tmp_path, faces_dir)
    r = CliRunner().invoke(app, ["eval", "--manifest", manifest, "--json", "--holdout-share", "0.34",
                                 "--enrol-images", "2", "--group-by", "note", "--threshold", "0.4"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["protocol"]["enrol_images"] == 2
    assert res["protocol"]["templates"] == 2 * res["protocol"]["enrolled"]
    assert res["n_mated"] + res["n_nonmated"] + res["protocol"]["templates"] == 18
    assert res["per_group"]["group_by"] == "note" and res["per_group"]["threshold"] == 0.4
    bad = CliRunner().invoke(app, ["eval", "--manifest", manifest, "--group-by", "ethnicity"])
    assert bad.exit_code == 2 and "not a column" in bad.output


def test_eval_cli_missing_manifest_exits_2(app, tmp_path):
    r = CliRunner().invoke(app, ["eval", "--manifest", str(tmp_path / "none.csv")])
    assert r.exit_code == 2 and "manifest not found" in r.output


def test_eval_cli_bad_columns_exit_2(app, tmp_path):
    m = tmp_path / "bad.csv"
    m.write_text("file,person\na.jpg,x\n")
    r = CliRunner().invoke(app, ["eval", "--manifest", str(m)])
    assert r.exit_code == 2 and "lacks column" in r.output


def test_eval_cli_exits_2_when_no_image_can_be_read(app, tmp_path):
    """Every path wrong: no rank-1 0.0 and FNIR 1.0 as if something had been measured (issue 32 item 6)."""
    m = tmp_path / "wrong_paths.csv"
    m.write_text("path,identity,dataset,note\n" + "".join(f"nowhere/{s}/{i}.pgm,orl_{s},orl,\n"
                                                             for s in ("s1", "s2", "s3") for i in (1, 2)))
    r = CliRunner().invoke(app, ["eval", "--manifest", str(m), "--json"])
    assert r.exit_code == 2, r.output
    assert "no image of manifest" in r.output and "could not be read" in r.output
    assert "nowhere/s" in r.output and "No such file" in r.output
    assert "rank-1" not in r.output and "1:N identification" not in r.output


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_eval_cli_warns_first_when_over_5_percent_unreadable(app, tmp_path, faces_dir):
    manifest = _write_manifest(tmp_path, faces_dir)
    with open(manifest, "a") as f:  # 2 of 20 images (10%) name no file
        f.write("missing/a.pgm,orl_s1,orl,\nmissing/b.pgm,orl_s2,orl,\n")
    r = CliRunner().invoke(app, ["eval", "--manifest", manifest, "--json", "--holdout-share", "0.34"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["unreadable_images"] == 2 and len(res["warnings"]) == 1
    assert "2 of 20 images" in r.stderr and "missing/" in r.stderr
    assert r.output.index("warning:") < r.output.index("1:N identification"), "the warning comes before the figures"


@pytest.mark.slow  # loads whole models on real photographs; the full suite runs it
def test_eval_cli_does_not_warn_at_5_percent_or_less(app, tmp_path, faces_dir):
    manifest = _write_manifest(tmp_path, faces_dir)
    with open(manifest, "a") as f:  # 1 of 20 images (5%): at the limit, no warning
        f.write(f"{os.path.relpath(faces_dir / 'orl' / 's1' / '4.pgm', tmp_path)},orl_s1,orl,\nmissing/a.pgm,orl_s1,orl,\n")
    r = CliRunner().invoke(app, ["eval", "--manifest", manifest, "--json", "--holdout-share", "0.34"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["unreadable_images"] == 1 and res["warnings"] == [] and "warning:" not in r.output
