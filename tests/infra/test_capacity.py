"""Capacity follows measured cost: the Terraform defaults are bench/live.py's per-stage CPU figures,
capacity.tf and bench/capacity.py size 10, 50 and 200 cameras alike, the README shows that table, and
the README's recovery procedure names every stateful component with its backup and restore step."""

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
