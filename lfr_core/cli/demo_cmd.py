"""`lfr demo`: the main job on the embedded default, end to end."""

from __future__ import annotations

from pathlib import Path

import typer

from lfr_core.cli.common import EXIT_UNAVAILABLE, cli_errors, console, load_settings
from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.demo_data import choose_demo_data
from lfr_core.services import manager
from lfr_core.services.process import ServiceError


def demo(
    data: Path | None = typer.Option(None, "--data", help="Image folder to use when ../shared is absent"),
) -> None:
    """Start the services, apply the schema and report their health."""
    settings = load_settings()
    with cli_errors((ServiceError, EXIT_UNAVAILABLE), (DatabaseUnavailable, EXIT_UNAVAILABLE), (FileNotFoundError, 2)):
        chosen = choose_demo_data(settings, data)
        console.rule("1. services")
        manager.up(settings)
        report = manager.status(settings)
    for name in ("postgres", "s3"):
        item = report[name]
        state = "[green]healthy[/]" if item["healthy"] else "[red]unhealthy[/]"
        extra = f" pgvector {item['pgvector']}, schema v{item['schema_version']}" if name == "postgres" else ""
        console.print(f"{name:9} {item['address']:22} {state}{extra}")
    console.print(f"demo data: {chosen.source} — {chosen.description}")
    if not all(report[name]["healthy"] for name in ("postgres", "s3")):
        raise typer.Exit(EXIT_UNAVAILABLE)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
