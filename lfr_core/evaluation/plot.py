"""DET curve (FNIR against FPIR, log-scaled FPIR) for an evaluation result."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def plot_det(result: dict, path: str | Path) -> Path:
    det = result["_det"]
    fp, fn = np.asarray(det["fpir"]), np.asarray(det["fnir"])
    n_nm = max(result.get("n_nonmated", 0), 1)
    floor = 0.5 / n_nm  # show FPIR = 0 points at the plot's floor instead of dropping them
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    ax.step(np.maximum(fp, floor), fn, where="post", label="all", color="black", linewidth=1.6)
    groups = result.get("per_group", {})
    for name, (_, g_fp, g_fn) in sorted((result.get("_det_by_group") or {}).items()):
        line, = ax.step(np.maximum(g_fp, floor), g_fn, where="post", label=name, linewidth=0.9, alpha=0.8)
        point = groups.get("groups", {}).get(name)
        if point and point["fpir"] is not None and point["fnir"] is not None:
            ax.scatter([max(point["fpir"], floor)], [point["fnir"]], s=22, color=line.get_color(), marker="D",
                       zorder=3)
    for key, t in (result.get("threshold_at_fpir") or {}).items():
        f = result["fnir_at_fpir"].get(key)
        if t is not None and f is not None:
            ax.scatter([max(float(key), floor)], [f], s=18)
            ax.annotate(f"FPIR {key}: FNIR {f:.3f}", (max(float(key), floor), f), fontsize=7,
                        xytext=(4, 4), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlim(floor, 1.0)
    marked = [v for v in (result.get("fnir_at_fpir") or {}).values() if v is not None]
    marked += [g["fnir"] for g in groups.get("groups", {}).values() if g["fnir"] is not None]
    ax.set_ylim(0, min(1.0, max(0.1, 2.0 * max(marked, default=0.5))))  # the region operators choose from
    ax.set_xlabel("FPIR (non-mated searches with a candidate above threshold)")
    ax.set_ylabel("FNIR (mated searches not at rank 1 above threshold)")
    m = result.get("model", {})
    operating = groups.get("threshold")
    ax.set_title(f"DET: {m.get('detector', {}).get('name')} + {m.get('embedder', {}).get('name')}"
                 + (f"; diamonds: each {groups.get('group_by')} at t = {operating:.3f}" if operating is not None else ""),
                 fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out
