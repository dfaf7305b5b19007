"""Capacity plan from measured cost: replicas, CPU workers and cores for a number of cameras.

Reads the per-process CPU a frame costs from bench/live.py's last JSON line (bench/results/live.json,
or a file given with --measured), less Ray's and Serve's upkeep (a fixed 10-15 CPU ms a second per
replica, which a replica busy at the sizing's utilisation spreads over far more frames than the 2-core
bench does), and applies the sizing rule infra/terraform/capacity.tf applies, so the topology table of
infra/terraform/README.md, the Terraform defaults and this script agree (tests/infra checks all three).

It also projects issue 12's two CPU ratios (overhead_share, serve_cpu_efficiency) onto each plan's cluster:
the 2-core bench pays Ray's fixed upkeep (100-170 CPU ms a second) over 11-17 frames a second, a planned
cluster over its cameras' frames.

The GPU plan beside it comes from bench/gpu.py's measurement on a GPU (bench/results/gpu.json: cameras at
5 fps one GPU serves with p95 <= 250 ms); while there is none, every GPU figure reads "not measured", never
an estimate.

Run: `python bench/capacity.py [--measured FILE] [--gpu-measured FILE] [--cameras 10,50,200] [--fps 5]`;
last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from live import CLIENT  # bench/live.py, which writes the measurements this script reads

RESULTS = Path(__file__).resolve().parent / "results" / "live.json"
GPU_RESULTS = Path(__file__).resolve().parent / "results" / "gpu.json"
NOT_MEASURED = "not measured"
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
    # rounded first, so that float noise (e.g. 1000 * 71.4 / 1000 / 0.6 = 119.00000000000001) adds no replica
    # that capacity.tf's arithmetic does not
    replicas = {stage: max(1, math.ceil(round(frames * ms / 1000 / utilisation, 6))) for stage, ms in cost_ms.items()}
    total = sum(replicas.values())
    return {"cameras": cameras, "detector_replicas": replicas["detector"], "embedder_replicas": replicas["embedder"],
            "ingress_replicas": replicas["ingress"], "cpu_workers_max": math.ceil(total / (worker_cpus - 1)),
            "worker_cores": math.ceil(total / (worker_cpus - 1)) * worker_cpus}


# Where Ray's and Serve's upkeep is paid in a cluster: by every replica of a stage, on every node (Serve runs
# a proxy on each), or once (the controller, the GCS, the dashboard; and the stores, which are not Ray's).
PER_NODE = ("ProxyActor", "raylet", "log_monitor", "other Ray")
PER_FRAME_KEY = {"http": "cpu_ms_per_frame_by_process_less_upkeep",
                 "stream": "cpu_ms_per_frame_by_process_stream_less_upkeep"}


def projected_targets(measured: dict, transport: str, replicas: dict[str, int], nodes: int,
                      frames_per_s: float) -> dict[str, float]:
    """Issue 12's two CPU ratios (bench/live.py's definitions) for a cluster of `nodes` nodes running
    `replicas` at `frames_per_s`: each frame's own cost as measured, plus the measured upkeep of each replica,
    node and singleton, spread over those frames. On the bench's own topology and rate it gives back what the
    bench measured; a node busy at the sizing's utilisation spreads the fixed part over far more frames."""
    per_frame = {p: ms for p, ms in measured[PER_FRAME_KEY[transport]].items() if p != CLIENT}
    upkeep = {p: ms for p, ms in measured["upkeep_cpu_ms_per_s_by_process"].items() if p != CLIENT}
    bench_replicas = measured["replicas_by_process"]

    def upkeep_ms_per_s(process: str) -> float:
        if process in bench_replicas:
            return upkeep.get(process, 0.0) / bench_replicas[process] * replicas[process]
        return upkeep.get(process, 0.0) * (nodes if process in PER_NODE else 1)

    cpu = {p: per_frame.get(p, 0.0) * frames_per_s + upkeep_ms_per_s(p) for p in {*per_frame, *upkeep}}
    models = cpu.get("Detector", 0.0) + cpu.get("Embedder", 0.0)
    serving = sum(cpu.values())
    return {"overhead_share": round((serving - models) / models, 3),
            "serve_cpu_efficiency": round(measured["loop_cpu_ms_per_frame_2feeds"] * frames_per_s / serving, 3)}


def planned_targets(measured: dict, plan_: dict[str, int], fps: float) -> dict[str, dict[str, float]]:
    """`projected_targets` of a capacity plan, for both transports (the workers and the head node)."""
    replicas = {"Detector": plan_["detector_replicas"], "Embedder": plan_["embedder_replicas"],
                "Ingress": plan_["ingress_replicas"]}
    return {t: projected_targets(measured, t, replicas, plan_["cpu_workers_max"] + 1, plan_["cameras"] * fps)
            for t in PER_FRAME_KEY}


def targets_table(plans: list[dict[str, int]], fps: float, measured: dict) -> str:
    """The table of `planned_targets` in docs/benchmarks.md (tests/infra/test_capacity.py keeps the two equal)."""
    rows = ["| `overhead_share` / `serve_cpu_efficiency`, projected | HTTP | stream |", "|---|---|---|"]
    for p in plans:
        replicas = p["detector_replicas"] + p["embedder_replicas"] + p["ingress_replicas"]
        nodes = p["cpu_workers_max"] + 1
        t = planned_targets(measured, p, fps)
        figures = " | ".join(f"{r['overhead_share']:.3f} / {r['serve_cpu_efficiency']:.3f}" for r in t.values())
        rows.append(f"| {p['cameras']} cameras at {fps:g} fps ({replicas} replicas, {nodes} nodes) | {figures} |")
    return "\n".join(rows)


def table(plans: list[dict[str, int]], fps: float) -> str:
    rows = [f"| cameras at {fps:g} fps | detector replicas | embedder replicas | ingress replicas | "
            "CPU workers (8 vCPU) | worker vCPUs |",
            "|---|---|---|---|---|---|"]
    rows += [f"| {p['cameras']} | {p['detector_replicas']} | {p['embedder_replicas']} | {p['ingress_replicas']} | "
             f"{p['cpu_workers_max']} | {p['worker_cores']} |" for p in plans]
    return "\n".join(rows)


def gpu_measurement(path: Path = GPU_RESULTS) -> dict | None:
    """bench/gpu.py's JSON from a real GPU run (not --quick, not the CPU), or None."""
    if not path.is_file():
        return None
    measured = json.loads(path.read_text())
    if measured.get("quick") or not measured.get("gpu") or not measured.get("cameras_at_5fps_p95_250ms"):
        return None
    return measured


def gpu_plan(cameras: int, measured: dict | None) -> dict:
    """GPUs for `cameras` at 5 fps from the measured cameras one GPU serves; None while not measured."""
    per_gpu = measured["cameras_at_5fps_p95_250ms"] if measured else None
    return {"cameras": cameras, "gpus": math.ceil(cameras / per_gpu) if per_gpu else None,
            "cameras_per_gpu": per_gpu, "gpu": measured["gpu"] if measured else None}


def gpu_table(plans: list[dict[str, int]], gpu_plans: list[dict], fps: float) -> str:
    """CPU and GPU plans side by side (infra/terraform/README.md; tests/infra/test_capacity.py)."""
    rows = [f"| cameras at {fps:g} fps | CPU plan: worker vCPUs | GPU plan: GPUs (a fused detector replica "
            "each) | GPU figure from |", "|---|---|---|---|"]
    for p, g in zip(plans, gpu_plans):
        gpus = NOT_MEASURED if g["gpus"] is None else str(g["gpus"])
        source = NOT_MEASURED if g["gpu"] is None else f"bench/gpu.py on {g['gpu']}"
        rows.append(f"| {p['cameras']} | {p['worker_cores']} | {gpus} | {source} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measured", type=Path, default=RESULTS)
    parser.add_argument("--gpu-measured", type=Path, default=GPU_RESULTS)
    parser.add_argument("--cameras", default="10,50,200")
    parser.add_argument("--fps", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true",
                        help="accepted for the benches' quick check: this script is arithmetic, always seconds")
    args = parser.parse_args()
    measured = json.loads(args.measured.read_text())
    cost = stage_cpu_ms(measured)
    plans = [plan(int(c), args.fps, cost) for c in args.cameras.split(",")]
    print(f"CPU ms per frame by stage (from {args.measured.name}): {cost}")
    print(table(plans, args.fps))
    print("\nIssue 12's CPU ratios on each plan's cluster at that load (targets: overhead_share <= 0.15, "
          "serve_cpu_efficiency >= 0.8):")
    print(targets_table(plans, args.fps, measured))
    gpu_plans = [gpu_plan(p["cameras"], gpu_measurement(args.gpu_measured)) for p in plans]
    print("\nCPU and GPU plans:")
    print(gpu_table(plans, gpu_plans, args.fps))
    targets = {p["cameras"]: planned_targets(measured, p, args.fps) for p in plans}
    print(json.dumps({"stage_cpu_ms_per_frame": cost, "plans": plans, "projected_targets": targets,
                      "gpu_plans": gpu_plans}))


if __name__ == "__main__":
    main()
