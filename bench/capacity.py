"""Capacity plan from measured cost: replicas, CPU workers and cores for a number of cameras.

Reads the per-process CPU a frame costs from bench/live.py's last JSON line (bench/results/live.json,
or a file given with --measured), less Ray's and Serve's upkeep (a fixed 10-15 CPU ms a second per
replica, which a replica busy at the sizing's utilisation spreads over far more frames than the 2-core
bench does), and applies the sizing rule infra/terraform/capacity.tf applies, so the README's topology
table, the Terraform defaults and this script agree (tests/infra checks all three).

Run: `python bench/capacity.py [--measured FILE] [--cameras 10,50,200] [--fps 5]`; last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "live.json"
TARGET_UTILISATION = 0.6  # capacity.tf target_cpu_utilisation default
WORKER_CPUS = 8  # capacity.tf cpu_workers.cpu default; one CPU per worker is left to the raylet and proxy
# Which of bench/live.py's processes each Serve stage pays for: the ingress stage carries the HTTP proxy
# as well as the ingress replica, since both scale with frames.
STAGES = {"detector": ("Detector",), "embedder": ("Embedder",), "ingress": ("Ingress", "ProxyActor")}


def stage_cpu_ms(measured: dict) -> dict[str, float]:
    by_process = measured["cpu_ms_per_frame_by_process_less_upkeep"]
    return {stage: round(sum(by_process.get(p, 0.0) for p in processes), 1) for stage, processes in STAGES.items()}


def plan(cameras: int, fps: float, cost_ms: dict[str, float], *, utilisation: float = TARGET_UTILISATION,
         worker_cpus: int = WORKER_CPUS) -> dict[str, int]:
    frames = cameras * fps
    # rounded first, so that float noise (1000 * 71.4 / 1000 / 0.6 = 119.00000000000001) adds no replica
    # that capacity.tf's arithmetic does not
    replicas = {stage: max(1, math.ceil(round(frames * ms / 1000 / utilisation, 6))) for stage, ms in cost_ms.items()}
    total = sum(replicas.values())
    return {"cameras": cameras, "detector_replicas": replicas["detector"], "embedder_replicas": replicas["embedder"],
            "ingress_replicas": replicas["ingress"], "cpu_workers_max": math.ceil(total / (worker_cpus - 1)),
            "worker_cores": math.ceil(total / (worker_cpus - 1)) * worker_cpus}


def table(plans: list[dict[str, int]], fps: float) -> str:
    rows = ["| cameras at %g fps | detector replicas | embedder replicas | ingress replicas | CPU workers (8 vCPU) | worker vCPUs |" % fps,
            "|---|---|---|---|---|---|"]
    rows += [f"| {p['cameras']} | {p['detector_replicas']} | {p['embedder_replicas']} | {p['ingress_replicas']} | "
             f"{p['cpu_workers_max']} | {p['worker_cores']} |" for p in plans]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measured", type=Path, default=RESULTS)
    parser.add_argument("--cameras", default="10,50,200")
    parser.add_argument("--fps", type=float, default=5.0)
    args = parser.parse_args()
    measured = json.loads(args.measured.read_text())
    cost = stage_cpu_ms(measured)
    plans = [plan(int(c), args.fps, cost) for c in args.cameras.split(",")]
    print(f"CPU ms per frame by stage (from {args.measured.name}): {cost}")
    print(table(plans, args.fps))
    print(json.dumps({"stage_cpu_ms_per_frame": cost, "plans": plans}))


if __name__ == "__main__":
    main()
