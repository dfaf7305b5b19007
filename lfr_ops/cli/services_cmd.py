"""`lfr services up|down|status`."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lfr_ops.cli.common import console, domain_errors, emit, load_settings
from lfr_ops.local_stack import manager

services = typer.Typer(no_args_is_help=True, help="Start, stop and inspect the local services")


def _render_status(report: dict[str, Any]) -> None:
    table = Table(title=f"services under {report['home']}")
    for column in ("service", "healthy", "address", "pid", "details"):
        table.add_column(column)
    for name, item in report.items():
        if not isinstance(item, dict) or "healthy" not in item:
            continue
        details = {k: v for k, v in item.items()
                   if k not in ("healthy", "address", "pid", "embedded", "ui", "audit_view", "console", "docs", "login")}
        table.add_row(
            name,
            "[green]yes[/]" if item["healthy"] else "[red]no[/]",
            str(item.get("address", "")),
            str(item.get("pid") or "-"),
            ", ".join(f"{k}={v}" for k, v in details.items()),
        )
    console.print(table)
    for name, item in report.items():
        if isinstance(item, dict) and "login" in item:
            pages = ", ".join(str(item[k]) for k in ("ui", "audit_view", "console", "docs") if k in item)
            console.print(f"{name}: {pages}; sign in with {item['login']}", highlight=False)
    shared = report["shared_dir"]
    console.print(f"shared data: {shared['path']} ({'present' if shared['present'] else 'MISSING'})")


@services.command("up")
def up(
    airflow: bool = typer.Option(
        False, "--airflow", help="Also run Airflow (its UI on 127.0.0.1; people sign in with their platform password)"),
    serve: bool = typer.Option(False, "--serve", help="Also start the Ray Serve application"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Start PostgreSQL+pgvector and the S3 server, apply migrations, create buckets (idempotent)."""
    settings = load_settings()
    with domain_errors():
        result = manager.up(settings)
        from lfr_ops.local_stack import extra

        result["started"].update(extra.up(settings, airflow=airflow, serve=serve))
        report = manager.status(settings)
    emit({"up": result, "status": report}, as_json, lambda d: _render_status(d["status"]))


@services.command("down")
def down(as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop every service started by `up`; leaves no process behind."""
    settings = load_settings()
    stopped = manager.down(settings)
    emit({"stopped": stopped}, as_json, lambda d: console.print(f"stopped: {d['stopped']}"))


@services.command("status")
def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Report each service, its address and health, pgvector's version and the shared data folder."""
    emit(manager.status(load_settings()), as_json, _render_status)


def register(app: typer.Typer) -> None:
    app.add_typer(services, name="services")
