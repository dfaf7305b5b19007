"""`lfr deployment create|show|list`."""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Table

from lfr_core import deployments
from lfr_core.cli.common import console, domain_errors, emit, load_settings
from lfr_core.config import CATEGORIES
from lfr_core.db.connection import connect
from lfr_core.roles import Actor

deployment = typer.Typer(no_args_is_help=True, help="Plan and inspect deployments")


@deployment.command("create")
def create(
    place: str = typer.Option(..., help="Where the cameras will be"),
    purpose: str = typer.Option(..., help="Why this deployment is necessary"),
    legal_basis: str = typer.Option(..., help="The law and policy it relies on"),
    intelligence_ref: str = typer.Option(..., help="Reference to the intelligence case"),
    start: datetime = typer.Option(..., formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"], help="Window start, with offset"),
    end: datetime = typer.Option(..., formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"], help="Window end, with offset"),
    authorising_officer: str = typer.Option(..., help="Officer who authorised the deployment"),
    category: list[str] = typer.Option(list(CATEGORIES), "--category", help="Allowed watchlist categories"),
    threshold: float | None = typer.Option(None, help="Cosine threshold (default: LFR_MATCH__THRESHOLD)"),
    actor: str = typer.Option(..., "--actor", envvar="LFR_ACTOR", help="Your name, for the audit log"),
    role: str = typer.Option("planner", "--role", envvar="LFR_ROLE"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Plan a deployment; its window must lie in the future."""
    settings = load_settings()
    with domain_errors():
        spec = deployments.validate_spec(
            {"place": place, "purpose": purpose, "legal_basis": legal_basis, "intelligence_ref": intelligence_ref,
             "window_start": start, "window_end": end, "authorising_officer": authorising_officer,
             "allowed_categories": category,
             "threshold": settings.match.threshold if threshold is None else threshold},
            settings,
        )
        with connect(settings) as conn:
            row = deployments.create(conn, spec, Actor(actor, role))
    emit(row, as_json, lambda r: console.print(f"deployment [bold]{r['id']}[/] planned at {r['place']}"))


@deployment.command("show")
def show(deployment_id: str, as_json: bool = typer.Option(False, "--json")) -> None:
    """One deployment and its watchlist versions."""
    from lfr_core.watchlist.lifecycle import list_versions

    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        row = deployments.get(conn, deployment_id)
        row["versions"] = [{k: v[k] for k in ("id", "version", "state", "entries_accepted", "built_by", "approved_by")}
                           for v in list_versions(conn, row["id"])]
    emit(row, as_json)


@deployment.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """All deployments, latest window first."""
    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        rows = deployments.list_all(conn)

    def render(items: list[dict]) -> None:
        table = Table("id", "place", "window", "status")
        for r in items:
            table.add_row(str(r["id"]), r["place"], f"{r['window_start']:%Y-%m-%d %H:%M} - {r['window_end']:%H:%M}", r["status"])
        console.print(table)

    emit(rows, as_json, render)


def register(app: typer.Typer) -> None:
    app.add_typer(deployment, name="deployment")
