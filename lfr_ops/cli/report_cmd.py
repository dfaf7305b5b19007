"""`lfr report grid`: the deployment-record grid as forces publish it (issue 28 item 4), with its annual summary."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import typer
from rich.table import Table

from lfr_core.reporting import grid
from lfr_core.times import force_zone
from lfr_ops.cli.common import console, domain_errors, load_settings, signed_in

report = typer.Typer(no_args_is_help=True, help="Published records: the deployment-record grid")


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


def _print(built: grid.Grid) -> None:
    table = Table(*grid.COLUMNS, grid.RECORD, title="deployment records")
    for row in built.rows:
        table.add_row(*(str(row[c]) for c in (*grid.COLUMNS, grid.RECORD)))
    console.print(table)
    summary = Table(*grid.SUMMARY_COLUMNS, title="by year")
    for row in built.summary:
        summary.add_row(*(str(row[c]) for c in grid.SUMMARY_COLUMNS))
    console.print(summary)


def register(app: typer.Typer) -> None:
    app.add_typer(report, name="report")
