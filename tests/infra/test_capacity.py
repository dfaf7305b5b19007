"""Capacity follows measured cost: the Terraform defaults are bench/live.py's per-stage CPU figures,
capacity.tf and bench/capacity.py size 10, 50 and 200 cameras alike, infra/terraform/README.md shows that table
and docs/benchmarks.md the projected targets, and the Terraform README's recovery procedure names every stateful
component with its backup and restore step."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.infra.conftest import EXAMPLE_TFVARS, TF_DIR, needs_terraform, render, tfvars_with

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
import capacity  # noqa: E402  bench/capacity.py

MEASURED = json.loads(capacity.RESULTS.read_text())
README = (TF_DIR / "README.md").read_text()


def section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_terraform_defaults_are_the_measured_costs() -> None:
    variables = (TF_DIR / "variables.tf").read_text()
    block = variables.split('variable "stage_cpu_ms_per_frame"', 1)[1].split("\n}\n", 1)[0]
    default = dict(re.findall(r"(\w+) = ([\d.]+)", block.split("default", 1)[1].split("}", 1)[0]))
    assert {k: float(v) for k, v in default.items()} == capacity.stage_cpu_ms(MEASURED)


@needs_terraform
@pytest.mark.parametrize("cameras", [10, 50, 200])
def test_terraform_sizes_like_the_capacity_script(eval_dir, cameras: int) -> None:
    out = render(eval_dir, tfvars_with(EXAMPLE_TFVARS.read_text(), peak_cameras=str(cameras),
                                       gpu_workers="{ enabled = false }"), f"cap{cameras}")
    expected = capacity.plan(cameras, 5.0, capacity.stage_cpu_ms(MEASURED))
    got = out["capacity"]
    assert (got["detector_replicas"], got["embedder_replicas"], got["ingress_replicas"], got["cpu_workers_max"]) == (
        expected["detector_replicas"], expected["embedder_replicas"], expected["ingress_replicas"],
        expected["cpu_workers_max"])


def test_readme_shows_the_capacity_table_of_the_measured_costs() -> None:
    plans = [capacity.plan(c, 5.0, capacity.stage_cpu_ms(MEASURED)) for c in (10, 50, 200)]
    assert capacity.table(plans, 5.0) in section("Capacity")


def test_recovery_names_every_stateful_component_with_backup_and_restore() -> None:
    rows = [r.strip("|").split("|") for r in section("Recovery").splitlines() if r.startswith("| ") and "---" not in r]
    table = {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}
    for component in ("PostgreSQL (platform database `lfr`)", "PostgreSQL (Airflow metadata `airflow`)",
                      "Object store", "Ray cluster", "Airflow", "Secrets", "Terraform state"):
        assert component in table, component
        state, backup, restore = table[component]
        assert state and backup and restore, component
    assert "bootstrap.recovery" in table["PostgreSQL (platform database `lfr`)"][2]
    assert "single point of failure" in table["Ray cluster"][2]


@pytest.mark.parametrize("transport, share, efficiency", [
    ("http", "overhead_share", "serve_cpu_efficiency"),
    ("stream", "overhead_share_stream", "serve_cpu_efficiency_stream"),
])
def test_projection_gives_back_the_bench_on_its_own_topology(transport: str, share: str, efficiency: str) -> None:
    """Upkeep added back per replica, node and singleton at the bench's rate reproduces what the bench measured
    with that upkeep in it: the projection's bookkeeping loses or doubles nothing."""
    got = capacity.projected_targets(MEASURED, transport, MEASURED["replicas_by_process"], 1,
                                     MEASURED[f"frames_per_s_{transport}"])
    assert got["overhead_share"] == pytest.approx(MEASURED[share], abs=0.01)
    assert got["serve_cpu_efficiency"] == pytest.approx(MEASURED[efficiency], abs=0.01)


def test_fixed_upkeep_weighs_less_on_a_busier_cluster() -> None:
    small, large = (capacity.planned_targets(MEASURED, capacity.plan(c, 5.0, capacity.stage_cpu_ms(MEASURED)), 5.0)
                    for c in (10, 200))
    for transport in ("http", "stream"):
        assert large[transport]["overhead_share"] < small[transport]["overhead_share"]
        assert large[transport]["serve_cpu_efficiency"] > small[transport]["serve_cpu_efficiency"]
    # and never below what a frame itself costs: the measured share less all upkeep
    assert large["stream"]["overhead_share"] >= MEASURED["overhead_share_stream_less_upkeep"] - 0.005


def test_the_benchmarks_page_shows_the_projected_targets() -> None:
    plans = [capacity.plan(c, 5.0, capacity.stage_cpu_ms(MEASURED)) for c in (10, 50, 200)]
    assert capacity.targets_table(plans, 5.0, MEASURED) in (ROOT / "docs" / "benchmarks.md").read_text()


def test_readme_shows_cpu_and_gpu_plans_and_marks_gpu_figures_not_measured() -> None:
    plans = [capacity.plan(c, 5.0, capacity.stage_cpu_ms(MEASURED)) for c in (10, 50, 200)]
    measured = capacity.gpu_measurement()
    gpu_plans = [capacity.gpu_plan(p["cameras"], measured) for p in plans]
    assert capacity.gpu_table(plans, gpu_plans, 5.0) in section("Capacity")
    if measured is None:  # no GPU run committed: no GPU number may stand in for one
        assert all(g["gpus"] is None for g in gpu_plans)
        assert capacity.gpu_table(plans, gpu_plans, 5.0).count(capacity.NOT_MEASURED) == 2 * len(plans)


def test_a_gpu_plan_comes_only_from_a_measurement_on_a_gpu(tmp_path: Path) -> None:
    result = tmp_path / "gpu.json"
    result.write_text(json.dumps({"gpu": None, "device": "cpu", "quick": True, "cameras_at_5fps_p95_250ms": 3}))
    assert capacity.gpu_measurement(result) is None  # the CPU rehearsal is not a GPU figure
    result.write_text(json.dumps({"gpu": "NVIDIA H200", "quick": False, "cameras_at_5fps_p95_250ms": 60}))
    measured = capacity.gpu_measurement(result)
    assert capacity.gpu_plan(200, measured)["gpus"] == 4 and capacity.gpu_plan(50, measured)["gpus"] == 1
