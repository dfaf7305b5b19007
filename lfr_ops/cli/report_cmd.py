"""`lfr report grid`: the deployment-record grid as forces publish it (issue 28 item 4), with its annual summary;
`lfr report notification`: the notification of a use (Art 5(4), issue 28 item 6) as the deployment DAG published it."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import typer
from rich.table import Table

from lfr_core.deployments import service as deployments
from lfr_core.reporting import grid, notification
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.times import force_zone
from lfr_ops.cli.common import console, domain_errors, emit, load_settings, signed_in

report = typer.Typer(no_args_is_help=True, help="Published records: the deployment-record grid, notifications of use")


@report.command("grid")
def grid_cmd(since: datetime | None = typer.Option(None, "--since", formats=["%Y-%m-%d"],
                                                   help="Deployments whose window opened on or after this day"),
             as_json: bool = typer.Option(False, "--json"), as_csv: bool = typer.Option(False, "--csv")) -> None:
    """One row per closed deployment in the Met's columns and order, then the annual summary (admins and auditors:
    the reviews that make a row final are theirs to see). --csv prints the grid alone."""
    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv")
    settings = load_settings()
    start = since.replace(tzinfo=force_zone()) if since else None
    with domain_errors(), signed_in(settings, "admin", "auditor") as (conn, viewer):
        viewer.require("admin", "auditor", to="read the deployment-record grid with its reviews")
        built = grid.build(conn, start)
    if as_csv:
        sys.stdout.write(grid.to_csv(built))
    elif as_json:  # in column order, unlike emit's sorted keys
        sys.stdout.write(json.dumps(built.as_json(), default=str) + "\n")
    else:
        _print(built)


@report.command("notification")
def notification_cmd(deployment: str = typer.Argument(..., help="Deployment id (or a unique prefix)"),
                     as_json: bool = typer.Option(False, "--json")) -> None:
    """The notification of this use to the market surveillance and data protection authorities (Art 5(4)), as the
    deployment DAG published it after the window, with where its PDF and the year's Art 5(6) statistics are."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin", "auditor", "authoriser", "planner") as (conn, viewer):
        viewer.require("admin", "auditor", "authoriser", "planner", to="read a notification of use")
        deployment_id = str(deployments.resolve_id(conn, deployment))
        published = notification.read(ObjectStore(settings), settings, deployment_id)
    emit(published, as_json, _print_notification)


def _print_notification(published: dict) -> None:
    note = published["notification"]
    console.print(f"[bold]{note['title']}[/bold]")
    console.print(f"To {' and '.join(note['notified_to'])}, from {note['deployer']}")
    for section in ("use", "legal_basis", "authorisation", "system", "results"):
        table = Table("field", "value", title=section.replace("_", " "))
        for key, value in note[section].items():
            table.add_row(key.replace("_", " "), "n/a" if value is None else str(value))
        console.print(table)
    console.print(note["excluded"])
    console.print(f"JSON {published['json_uri']} (sha256 {published['json_sha256']}); PDF {published['pdf_uri']}")


def _print(built: grid.Grid) -> None:
    table = Table(*grid.COLUMNS, *grid.OURS, title="deployment records")
    for row in built.rows:
        table.add_row(*(str(row[c]) for c in (*grid.COLUMNS, *grid.OURS)))
    console.print(table)
    summary = Table(*grid.SUMMARY_COLUMNS, title="by year")
    for row in built.summary:
        summary.add_row(*(str(row[c]) for c in grid.SUMMARY_COLUMNS))
    console.print(summary)


def register(app: typer.Typer) -> None:
    app.add_typer(report, name="report")
