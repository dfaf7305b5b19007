"""`lfr watchlist build|show|diff|approve|activate|expire|purge|history`."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from lfr_core.cli.common import console, domain_errors, emit, load_settings
from lfr_core.db.connection import connect
from lfr_core.roles import Actor
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.purge import history as subject_history
from lfr_core.watchlist.purge import purge as purge_version

watchlist = typer.Typer(no_args_is_help=True, help="Build, seal, activate, expire and purge watchlists")

ACTOR = typer.Option(..., "--actor", envvar="LFR_ACTOR", help="Your name, for the audit log")
JSON = typer.Option(False, "--json", help="One JSON object on the last line")


def _summary(version: dict[str, Any]) -> None:
    console.print(
        f"version [bold]{version['version']}[/] ({version['id']}) state=[bold]{version['state']}[/] "
        f"accepted={version['entries_accepted']} rejected={version['entries_rejected']}"
    )


@watchlist.command("build")
def build(
    deployment_id: str = typer.Option(..., "--deployment"),
    manifest: str = typer.Option(..., "--manifest", help="CSV or JSON manifest: a file path or s3://bucket/key"),
    build_key: str | None = typer.Option(None, "--build-key", help="Idempotency key: a retry returns the same version"),
    actor: str = ACTOR,
    role: str = typer.Option("planner", "--role", envvar="LFR_ROLE"),
    as_json: bool = JSON,
) -> None:
    """Build a draft version: every image through the face engine, each entry accepted or rejected with a reason."""
    from lfr_core.vision.engine import build_engine
    from lfr_core.watchlist.build import build_version

    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        version = build_version(conn, ObjectStore(settings), build_engine(settings), settings,
                                deployment_id=deployment_id, manifest_uri=manifest, actor=Actor(actor, role),
                                build_key=build_key)

    def render(v: dict[str, Any]) -> None:
        table = Table("subject_ref", "category", "status", "reason")
        for e in v["entries"]:
            table.add_row(e["subject_ref"], e["category"], e["status"], e["reason"] or "")
        console.print(table)
        _summary(v)

    emit(version, as_json, render)


@watchlist.command("show")
def show(version_id: str, as_json: bool = JSON) -> None:
    """A version with its entries (no embeddings)."""
    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        version = lifecycle.get_version(conn, version_id)
        version["entries"] = [{k: v for k, v in e.items() if k != "quality"} for e in lifecycle.entries(conn, version["id"])]
    emit(version, as_json, _summary)


@watchlist.command("diff")
def diff(old_version: str, new_version: str, as_json: bool = JSON) -> None:
    """Subjects added, removed and changed between two versions."""
    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        emit(lifecycle.diff(conn, old_version, new_version), as_json)


def _transition_command(name: str, default_role: str, helptext: str):
    def command(version_id: str, actor: str = ACTOR,
                role: str = typer.Option(default_role, "--role", envvar="LFR_ROLE"), as_json: bool = JSON) -> None:
        settings = load_settings()
        with domain_errors(), connect(settings) as conn:
            version = getattr(lifecycle, name)(conn, version_id, Actor(actor, role))
        emit(version, as_json, _summary)

    command.__doc__ = helptext
    watchlist.command(name)(command)


_transition_command("approve", "authoriser", "Seal a draft: an authoriser who did not build it approves its criteria hash.")
_transition_command("activate", "operator", "Make an approved version live; only inside the deployment window.")
_transition_command("expire", "operator", "End an approved or active version.")


@watchlist.command("purge")
def purge(version_id: str, actor: str = ACTOR, role: str = typer.Option("admin", "--role", envvar="LFR_ROLE"),
          as_json: bool = JSON) -> None:
    """Delete templates and copied images, verify nothing remains, write a deletion receipt."""
    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        receipt = purge_version(conn, ObjectStore(settings), settings, version_id, Actor(actor, role))
    emit(receipt, as_json)


@watchlist.command("history")
def history(subject_ref: str, as_json: bool = JSON) -> None:
    """Was this subject on a list, when, for which deployment (from the kept snapshots, no templates)."""
    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        found = subject_history(conn, ObjectStore(settings), subject_ref)

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("deployment", "place", "window", "version", "state", "entry")
        for r in rows:
            table.add_row(r.get("deployment_id", ""), r.get("place", ""), f"{r.get('window_start')}",
                          str(r.get("version", "")), r.get("state", ""), r.get("entry_status", r.get("error", "")))
        console.print(table if rows else f"{subject_ref} was never on a watchlist")

    emit({"subject_ref": subject_ref, "occurrences": found}, as_json, lambda d: render(d["occurrences"]))


def register(app: typer.Typer) -> None:
    app.add_typer(watchlist, name="watchlist")
