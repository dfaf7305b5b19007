"""`lfr eval`: accuracy of the face engine on a labelled manifest (logic in lfr_core.evaluation)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lfr_core.errors import InvalidInput

if TYPE_CHECKING:
    from lfr_core.evaluation.model import ConditionCurve, Rate


def _fmt(x) -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.4f}"
    return str(x)


def _print_report(res: dict, console) -> None:
    from rich.table import Table

    m = res["model"]
    console.print(f"[bold]Model[/]: {m['detector']['name']} {m['detector']['version']} + "
                  f"{m['embedder']['name']} {m['embedder']['version']}")
    p = res["protocol"]
    console.print(f"{p['images']} images, {p['identities']} identities, {p['enrolled']} enrolled, "
                  f"{p['held_out_identities']} held out (seed {p['seed']}); "
                  f"{res['n_mated']} mated / {res['n_nonmated']} non-mated searches")
    t = Table(title="1:N identification (NIST FRTE definitions)")
    for col in ("set", "rank-1", "mated", "non-mated", "FPIR", "threshold", "FNIR", "TPIR"):
        t.add_column(col)
    blocks = [("all", res), *list(res["per_dataset"].items())]
    for name, b in blocks:
        first = True
        for key in b["threshold_at_fpir"]:
            flag = " (insufficient non-mated)" if key in b["insufficient_nonmated"] else ""
            t.add_row(name if first else "", _fmt(b["rank1"]) if first else "", str(b["n_mated"]) if first else "",
                      str(b["n_nonmated"]) if first else "", key + flag, _fmt(b["threshold_at_fpir"][key]),
                      _fmt(b["fnir_at_fpir"][key]), _fmt(b["tpir_at_fpir"][key]))
            first = False
    console.print(t)
    c = res["calibrated"]
    console.print(f"Threshold for FPIR {c['target_fpir']:g}: {_fmt(c['threshold'])} "
                  f"(measured FPIR {_fmt(c['fpir_measured'])}, FNIR {_fmt(c['fnir'])})"
                  + ("" if c["sufficient_nonmated"] else " [yellow]insufficient non-mated searches[/]"))
    if res["insufficient_nonmated"]:
        console.print(f"[yellow]insufficient_nonmated[/]: FPIR {', '.join(res['insufficient_nonmated'])} need more "
                      f"non-mated searches; lowest achievable FPIR {_fmt(res['lowest_achievable_fpir'])}")
    pr = res["projection"]
    console.print(f"Projection: watchlist {pr['watchlist_size']}, {pr['faces_seen']} faces seen -> "
                  f"{pr['false_alerts']:.2f} false alerts (95% bound {pr['false_alerts_upper95']:.2f}), "
                  f"per-comparison FMR {pr['per_comparison_fmr']:.2e}")
    imp = res["impostor"]
    console.print(f"Impostor tail: {imp['pairs']:,} pairs of images of different identities resolve a "
                  f"per-comparison rate down to {imp['resolvable_rate']:.2g} (95%); rate (upper bound) at "
                  + ", ".join(f"{t['threshold']:.2f}: {t['rate']:.2g} ({t['upper']:.2g})" for t in imp["tail"]))
    fte = res["failures_to_enrol"]
    console.print(f"Failures to enrol: {fte['count']}")
    for f in fte["items"][:20]:
        console.print(f"  {f['path']}: {f['reasons']}")
    console.print(f"Searches without a template: {res['probe_failures']['count']}")
    _print_groups(res["per_group"], console)
    _print_tracks(res["track_fusion"], console)


def _ci(entry: dict, metric: str) -> str:
    lo, hi = entry[f"{metric}_ci95"]
    return f"{_fmt(entry[metric])} [{_fmt(lo)}, {_fmt(hi)}]"


def _print_groups(pg: dict, console) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"Per {pg['group_by']} at the operating threshold {_fmt(pg['threshold'])} "
                    f"({pg['operating_threshold_source']}); 95% intervals over identities")
    for col in ("group", "identities", "mated", "non-mated", "FNIR", "FPIR", "rank-1", "failure to enrol"):
        t.add_column(col)
    for name, g in pg["groups"].items():
        t.add_row(name, str(g["identities"]), str(g["n_mated"]), str(g["n_nonmated"]), _ci(g, "fnir"),
                  _ci(g, "fpir"), _ci(g, "rank1"), _ci(g, "fte_rate"))
    console.print(t)
    for r in pg["ratios"].values():
        if r:
            console.print(f"[red]{escape(r['verdict'])}[/]" if r["flag"] else escape(r["verdict"]), soft_wrap=True)


def _print_tracks(tf: dict, console) -> None:
    from rich.table import Table

    if not tf["rules"]:
        return
    t = Table(title=f"Track decisions: sequences of {tf['track_length']} images at threshold {_fmt(tf['threshold'])}")
    for col in ("rule", "mated tracks", "FNIR", "non-mated tracks", "FPIR"):
        t.add_column(col)
    for r in tf["rules"]:
        t.add_row(r["rule"], str(r["n_mated"]), _fmt(r["fnir"]), str(r["n_nonmated"]), _fmt(r["fpir"]))
    console.print(t)


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_command(
        manifest: Path = typer.Option(..., "--manifest", help="CSV with path,identity,dataset,note"),
        detector: str | None = typer.Option(None, help="Detector backend (default: settings)"),
        embedder: str | None = typer.Option(None, help="Embedder backend (default: settings)"),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line"),
        plot: Path | None = typer.Option(None, "--plot", help="Write a DET curve PNG here"),
        holdout_share: float = typer.Option(0.2, min=0.0, max=0.95, help="Share of identities held out as non-mated"),
        seed: int = typer.Option(0, help="Seed for the hold-out choice"),
        watchlist_size: int | None = typer.Option(None, min=1, help="Watchlist size for the projection"),
        faces_seen: int = typer.Option(10_000, min=0, help="Faces seen in the deployment for the projection"),
        target_fpir: float = typer.Option(0.01, min=1e-9, max=1.0, help="FPIR to calibrate the threshold for"),
        group_by: str = typer.Option("dataset", "--group-by", help="Manifest column whose values form the groups"),
        threshold: float | None = typer.Option(None, "--threshold", min=-1.0, max=1.0,
                                                  help="Operating threshold for per-group figures and track "
                                                       "decisions (default: calibrated for --target-fpir)"),
        enrol_images: int = typer.Option(1, "--enrol-images", min=1, max=20,
                                         help="Images enrolled per identity; a search takes each one's best"),
        track_length: int = typer.Option(3, "--track-length", min=1, max=20,
                                         help="Probe images of one identity that stand for one track"),
        fusion: str = typer.Option("centroid", "--fusion",
                                   help="Score an identity of several images by its centroid (as live) or best"),
        conditions: list[str] | None = typer.Option(
            None, "--conditions", help="Search every probe again as a camera shows it: size=L[,L...] (face box "
                                       "width in a 640x360 frame), optional jpeg=Q (default 80) and blur=SIGMA; "
                                       "e.g. size=96,64,48,32,24"),
        size_plot: Path | None = typer.Option(None, "--size-plot", help="With --conditions: write FNIR against "
                                                                        "face size as a PNG here"),
        record: bool = typer.Option(False, "--record", help="Store the calibration (and the --conditions curve) so "
                                                           "reports project with it (signed-in admin)"),
    ) -> None:
        """Evaluate 1:N accuracy (rank-1, FNIR at FPIR) of the face engine on a labelled manifest."""
        from rich.console import Console

        from lfr_core.config import get_settings
        from lfr_core.evaluation.manifest import load_manifest
        from lfr_ops.cli.common import domain_errors

        with domain_errors():  # a manifest to fix (2), a model that will not load (2), bad --conditions (2)
            load_manifest(manifest)
            from lfr_core.evaluation.conditions import parse_conditions

            wanted = parse_conditions(conditions) if conditions else ()
            if size_plot is not None and not wanted:
                raise InvalidInput("--size-plot needs --conditions size=L[,L...]")
            s = get_settings()
            upd = {k: v for k, v in (("detector", detector), ("embedder", embedder)) if v}
            if upd:
                s = s.model_copy(update={"vision": s.vision.model_copy(update=upd)})
            from lfr_core.evaluation.run import run_evaluation
            from lfr_core.vision.engine import build_engine

            engine = build_engine(s)
            res = run_evaluation(manifest, settings=s, engine=engine, holdout_share=holdout_share, seed=seed,
                                 watchlist_size=watchlist_size, faces_seen=faces_seen, target_fpir=target_fpir,
                                 group_by=group_by, threshold=threshold, enrol_images=enrol_images,
                                 track_length=track_length, fusion=fusion, conditions=wanted)
        curve = res.pop("conditions")
        if plot is not None:
            from lfr_core.evaluation.plot import plot_det

            plot_det(res, plot)
        if size_plot is not None and curve is not None:
            from lfr_core.evaluation.plot import plot_fnir_by_size

            plot_fnir_by_size(curve, size_plot)
        arrays = {k: res.pop(k) for k in [k for k in res if k.startswith("_")]}
        _print_warnings(res["warnings"])
        if record:
            res["calibration_id"], res["condition_curve_id"] = _record(res, arrays, curve)
        console = Console(file=sys.stdout, width=120)
        _print_report(res, console)
        if curve is not None:
            _print_conditions(curve, console)
        if plot is not None:
            print(f"DET curve written to {plot}")
        if size_plot is not None:
            print(f"FNIR by face size written to {size_plot}")
        if as_json:
            res["conditions"] = curve.to_json() if curve is not None else None
            print(json.dumps(_finite(res), default=_json_default, allow_nan=False))


def _print_warnings(warnings: list[str]) -> None:
    """Before any figure: what makes the figures below less than a measurement of the engine."""
    from rich.markup import escape

    from lfr_ops.cli.common import err_console

    for w in warnings:
        err_console.print(f"[bold yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)


def _record(res: dict, arrays: dict, curve: ConditionCurve | None) -> tuple[int, int | None]:
    """Stored as the signed-in admin: the calibration sets thresholds, so it is audited; so is the condition curve,
    which names the calibration recorded with it."""
    from lfr_core.config import get_settings
    from lfr_core.evaluation import calibration, conditions
    from lfr_ops.cli.common import domain_errors, signed_in

    with domain_errors(), signed_in(get_settings(), "admin") as (conn, actor):
        calibration_id = calibration.record(conn, res, arrays["_nonmated_top"], actor,
                                            searches=arrays["_searches"], enrolments=arrays["_enrolments"],
                                            impostor=arrays["_impostor_tail"])
        curve_id = None if curve is None else conditions.record(conn, curve, actor, calibration_id=calibration_id)
        return calibration_id, curve_id


def _rate(r: Rate) -> str:
    if r.value is None:
        return "-"
    return f"{r.value:.3f} [{_fmt3(r.low)}-{_fmt3(r.high)}]"


def _fmt3(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def _print_conditions(curve: ConditionCurve, console) -> None:
    """The rates under each condition: at the operating threshold, at the threshold recalibrated per condition,
    the gate's refusals, and per group with the verdicts."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"Under camera conditions (each probe's face box rescaled to L px in a {curve.frame_width}x"
                    f"{curve.frame_height} frame) at the operating threshold {curve.operating_threshold:.3f} "
                    f"({curve.threshold_source}); 95% intervals over identities")
    for col in ("condition", "face px", "mated/non-mated", "FNIR", "TPIR", "FPIR", "rank-1"):
        t.add_column(col)
    for p in curve.points:
        t.add_row(p.condition.label, f"{p.face_px_median:.0f}" if p.face_px_median else "-",
                  f"{p.n_mated}/{p.n_nonmated}", _rate(p.fnir), _rate(p.tpir), _rate(p.fpir), _rate(p.rank1))
    console.print(t)
    reasons = sorted({r.reason for p in curve.points for r in p.refusals})
    t = Table(title="Probes the live gate refused (no template), by reason; a probe may have two")
    for col in ("condition", "refused", *reasons):
        t.add_column(col)
    for p in curve.points:
        refused = {r.reason: r for r in p.refusals}
        t.add_row(p.condition.label, f"{p.refused_probes} {_rate(p.refused)}",
                  *(f"{refused[r].probes} {_rate(refused[r].rate)}" if r in refused else "0" for r in reasons))
    console.print(t)
    t = Table(title=f"Under camera conditions at a threshold recalibrated for FPIR {curve.target_fpir:g} on each "
                    f"condition's non-mated searches")
    for col in ("condition", "threshold", "FNIR", "TPIR", "FPIR"):
        t.add_column(col)
    for p in curve.points:
        threshold = _fmt3(p.calibrated_threshold) + ("" if p.calibrated_sufficient else " (insufficient non-mated)")
        t.add_row(p.condition.label, threshold, _rate(p.fnir_at_target), _rate(p.tpir_at_target),
                  _rate(p.fpir_at_target))
    console.print(t)
    groups = sorted({g.group for p in curve.points for g in p.groups})
    t = Table(title=f"FNIR per {curve.group_by} under each condition at {curve.operating_threshold:.3f}")
    for col in ("condition", *groups):
        t.add_column(col)
    for p in curve.points:
        by = {g.group: g for g in p.groups}
        t.add_row(p.condition.label, *(_rate(by[g].fnir) if g in by else "-" for g in groups))
    console.print(t)
    for p in curve.points:
        for verdict, flagged in ((p.fnir_verdict, p.fnir_flagged), (p.fpir_verdict, p.fpir_flagged)):
            if verdict:
                line = f"{p.condition.label}: {escape(verdict)}"
                console.print(f"[red]{line}[/]" if flagged else line, soft_wrap=True)


def _finite(o):
    """NaN/inf (e.g. a metric with no searches behind it) become null so the JSON stays strict."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o)}")
