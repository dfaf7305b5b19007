"""Plots of an evaluation: the DET curve (FNIR against FPIR, log-scaled FPIR) and FNIR against face size."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from lfr_core.evaluation.model import ConditionCurve, ConditionPoint, Rate


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


def plot_fnir_by_size(curve: ConditionCurve, path: str | Path) -> Path:
    """FNIR at the operating threshold against the face box's width, with its 95% interval: one line for all
    probes and one per group for each JPEG quality and blur asked, the probes as photographed as a dotted line."""
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=120)
    series: dict[tuple[int | None, float], list[ConditionPoint]] = {}
    for p in curve.points:
        if p.condition.face_px is not None:
            series.setdefault((p.condition.jpeg_quality, p.condition.blur_sigma), []).append(p)
    for (quality, blur), points in series.items():
        points = sorted(points, key=lambda p: p.condition.face_px or 0)
        sizes = np.array([p.condition.face_px for p in points], dtype=float)
        label = f"all, JPEG {quality}" + (f", blur {blur:g}" if blur else "")
        _with_interval(ax, sizes, [p.fnir for p in points], label, color="black", width=1.6)
        if len(series) == 1:  # per group only where one line per group stays readable
            for group in sorted({g.group for p in points for g in p.groups}):
                rates = [next((g.fnir for g in p.groups if g.group == group), Rate(None, None, None)) for p in points]
                _with_interval(ax, sizes, rates, group, color=None, width=0.9)
    photographed = curve.points[0]
    if photographed.fnir.value is not None:
        ax.axhline(photographed.fnir.value, linestyle=":", color="grey",
                   label=f"as photographed (median face {photographed.face_px_median or 0:.0f} px)")
    ax.invert_xaxis()  # faces get smaller (farther from the camera) to the right
    ax.set_ylim(0, 1)
    ax.set_xlabel("face box width in the frame (px)")
    ax.set_ylabel("FNIR at the operating threshold")
    ax.set_title(f"FNIR by face size: {curve.detector.name} + {curve.embedder.name}, "
                 f"t = {curve.operating_threshold:.3f}; 95% intervals over identities", fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out)
    plt.close(fig)
    return out


def _with_interval(ax: Axes, sizes: np.ndarray, rates: list[Rate], label: str, *, color: str | None,
                   width: float) -> None:
    value = np.array([np.nan if r.value is None else r.value for r in rates])
    low = np.array([np.nan if r.low is None else r.low for r in rates])
    high = np.array([np.nan if r.high is None else r.high for r in rates])
    line, = ax.plot(sizes, value, marker="o", markersize=3, label=label, color=color, linewidth=width)
    ax.fill_between(sizes, low, high, color=line.get_color(), alpha=0.12 if color else 0.06, linewidth=0)
