"""`lfr camera plan`: how far from a camera a face is wide enough to recognise (logic in
lfr_core/deployments/cameras.py)."""

from __future__ import annotations

from dataclasses import asdict

import typer

from lfr_core.config import Settings
from lfr_core.evaluation.model import ReliableSize
from lfr_ops.cli.common import console, domain_errors, emit, load_settings, signed_in

camera = typer.Typer(no_args_is_help=True, help="Plan where cameras go, and register them for a deployment")


@camera.command("plan")
def plan(
    resolution: str = typer.Option(..., "--resolution", help="The camera's frame as WIDTHxHEIGHT pixels, e.g. 1920x1080"),
    hfov: float = typer.Option(..., "--hfov", help="Horizontal field of view in degrees, at the zoom it will use"),
    face_width_m: float = typer.Option(0.16, "--face-width-m", help="Width of a face in metres"),
    face_px: int | None = typer.Option(None, "--face-px", help="Face width in pixels to reach (default: the reliable "
                                                               "size from the model's recorded size curve, at least the "
                                                               "live gate's quality.min_live_face_px)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line"),
) -> None:
    """The farthest distance at which a face reaches the size the engine needs, with the arithmetic."""
    from lfr_core.deployments import cameras

    with domain_errors():  # a resolution, field of view or size that cannot be (2)
        size = cameras.parse_resolution(resolution)
        if face_px is None:
            settings = load_settings()
            reliable, unread = _recorded_reliable_size(settings)
            n, source = cameras.reliable_face_px(settings, reliable)
            source += unread
        else:
            n, source = face_px, "given with --face-px"
        r = cameras.camera_range(size, hfov, face_px=n, face_px_source=source, face_width_m=face_width_m)
    lines = cameras.arithmetic(r)

    def render(_: object) -> None:
        console.print(f"Camera {r.width_px}x{r.height_px}, horizontal field of view {r.hfov_deg:g}°, a face "
                      f"{r.face_width_m:g} m wide", highlight=False)
        console.print(f"Face width to reach: {r.face_px} px, {r.face_px_source}", highlight=False, soft_wrap=True)
        console.print(f"Farthest distance: {r.max_distance_m:.2f} m", style="bold", highlight=False)
        for line in lines:
            console.print(f"  {line}", highlight=False, soft_wrap=True)

    emit({**asdict(r), "arithmetic": lines}, as_json, render)


@camera.command("add")
def add(
    deployment_id: str = typer.Argument(..., help="The deployment's id, or a unique start of it"),
    name: str = typer.Option(..., "--name", help="The camera's name in this deployment, e.g. 'north entrance'"),
    resolution: str = typer.Option(..., "--resolution", help="The camera's frame as WIDTHxHEIGHT pixels"),
    hfov: float = typer.Option(..., "--hfov", help="Horizontal field of view in degrees, at the zoom it will use"),
    face_width_m: float = typer.Option(0.16, "--face-width-m", help="Width of a face in metres"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line"),
) -> None:
    """Register a camera for a deployment (planner): its range, computed as `lfr camera plan` computes it at the
    deployment's reliable face size, is kept in the deployment record and shown by `lfr deployment show`."""
    from lfr_core.deployments import cameras
    from lfr_core.deployments import service as deployments
    from lfr_core.vision.registry import build_embedder
    from lfr_core.watchlist import gate

    settings = load_settings()
    with domain_errors():
        size = cameras.parse_resolution(resolution)
        sha = build_embedder(settings).identity.weights_sha256
        with signed_in(settings, "planner", "admin") as (conn, actor):
            dep = deployments.resolve_id(conn, deployment_id)
            n, source = gate.deployment_face_px(conn, settings, dep, sha)
            r = cameras.camera_range(size, hfov, face_px=n, face_px_source=source, face_width_m=face_width_m)
            row = deployments.register_camera(conn, dep, name, r, actor)
    lines = cameras.arithmetic(r)

    def render(_: object) -> None:
        console.print(f"camera {row['name']!r} registered for deployment {row['deployment_id']}: a face is "
                      f"{r.face_px} px wide up to {r.max_distance_m:.2f} m ({r.face_px_source})", highlight=False,
                      soft_wrap=True)
        for line in lines:
            console.print(f"  {line}", highlight=False, soft_wrap=True)

    emit({**row, "arithmetic": lines}, as_json, render)


def _recorded_reliable_size(settings: Settings) -> tuple[ReliableSize | None, str]:
    """The configured embedder's reliable size from its latest recorded size curve, or None, with a note when the
    database could not be reached to read one (the plan then aims for the live gate's minimum and says why)."""
    from lfr_core.db.connection import DatabaseUnavailable, connect
    from lfr_core.evaluation import conditions
    from lfr_core.vision.registry import build_embedder

    sha = build_embedder(settings).identity.weights_sha256
    try:
        with connect(settings) as conn:
            return conditions.latest_reliable_size(conn, sha, settings.quality.reliable_fnir_factor), ""
    except DatabaseUnavailable as e:
        return None, f" (the database, where size curves are recorded, could not be read: {e})"


def register(app: typer.Typer) -> None:
    app.add_typer(camera, name="camera")
