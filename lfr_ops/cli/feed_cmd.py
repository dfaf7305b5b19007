"""`lfr feed`: stream a video file, an RTSP stream or a folder of images to the live service."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lfr_core.errors import Service, Unavailable
from lfr_ops.cli.common import console, domain_errors, emit, load_settings
from lfr_ops.feed import Feed, frame_count


def feed(
    deployment: str = typer.Option(..., "--deployment", help="Deployment id"),
    source: str = typer.Option(..., "--source", help="Video file, rtsp://... URL or folder of images"),
    fps: float = typer.Option(5.0, "--fps", min=0.1, max=60.0, help="Frames per second to send"),
    api_key: str = typer.Option(..., "--api-key", envvar="LFR_API_KEY", help="The camera's key, bound to the deployment"),
    camera: str = typer.Option("cam-1", "--camera", help="Camera id"),
    url: str | None = typer.Option(None, "--url", help="Service URL (default http://serve.host:serve.port)"),
    max_inflight: int = typer.Option(2, "--max-inflight", min=1, max=64, help="Frames unanswered before dropping"),
    transport: str = typer.Option("stream", "--transport", help="stream: one WebSocket for the camera; http: a POST "
                                                                "per frame"),
    max_frames: int | None = typer.Option(None, "--max-frames", min=1, help="Stop after this many frames"),
    loop: bool = typer.Option(False, "--loop", help="Start a file or folder again at its end"),
    retries: int = typer.Option(5, "--retries", min=0, max=100, help="Reconnect attempts for a dropped stream"),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON line"),
) -> None:
    """Send frames at --fps (one WebSocket per camera by default); drops frames when the service is behind,
    reconnects dropped sources. A stream is read at its own rate and each send takes its newest frame, with the
    time the camera captured it (the frame age shown: how long before its sending)."""
    settings = load_settings()
    base = url or f"http://{settings.serve.host}:{settings.serve.port}"
    total = None if loop else frame_count(source, fps)
    if total is not None and max_frames is not None:
        total = min(total, max_frames)
    columns = (TextColumn("[bold]feed"), BarColumn(), MofNCompleteColumn(),
               TextColumn("sent {task.fields[sent]} dropped {task.fields[dropped]} alerts {task.fields[alerts]}"
                          "{task.fields[age]}"),
               TimeElapsedColumn())
    with domain_errors():  # a bad source or key, a refusal by the deployment's rules, the live API down
        runner = Feed(base, deployment, api_key, camera_id=camera, fps=fps, max_inflight=max_inflight,
                      transport=transport)
        with Progress(*columns, console=console, transient=as_json, disable=as_json) as progress:
            task = progress.add_task("feed", total=total, sent=0, dropped=0, alerts=0, age="")
            stats = runner.run(source, max_frames=max_frames, loop=loop, retries=retries,
                               on_frame=lambda s: progress.update(task, completed=s.read, sent=s.sent,
                                                                  dropped=s.dropped, alerts=s.alerts,
                                                                  age=frame_age(s.last_frame_age_s)))
        summary = stats.summary()
        if summary["frames_sent"] and not summary["frames_ok"] and summary["failed"]:
            emit(summary, as_json)
            raise Unavailable(f"no frame reached {base}; is the service up (`lfr services up --serve`)?",
                              service=Service.LIVE_API)
        if stats.unavailable:  # frames refused by an outage behind the ingress, not only for sending too fast
            emit(summary, as_json)
            reason, _ = stats.unavailable.most_common(1)[0]
            raise Unavailable(f"{summary['refused_unavailable']} of {summary['frames_sent']} frames refused while "
                              f"a service was unavailable: {reason}", service=Service.LIVE_API)
    emit(summary, as_json, lambda d: console.print(
        f"sent {d['frames_sent']} frames ({d['frames_ok']} answered), dropped {d['dropped']}, "
        f"failed {d['failed']}, faces {d['faces']}, alerts {d['alerts']}, p95 {d['p95_ms']} ms"
        + (f", frame age {d['frame_age_p50_ms']} ms (max {d['frame_age_max_ms']} ms)"
           if d["frame_age_max_ms"] is not None else "")))


def frame_age(seconds: float | None) -> str:
    """How old a stream's last frame sent was (files have no capture time of their own)."""
    return "" if seconds is None else f" frame age {seconds:.2f} s"


def register(app: typer.Typer) -> None:
    app.command("feed")(feed)
