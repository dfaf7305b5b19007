"""`lfr audit verify|export`."""

from __future__ import annotations

import typer

from lfr_core import audit
from lfr_core.cli.common import console, domain_errors, emit, load_settings
from lfr_core.db.connection import connect
from lfr_core.storage.objectstore import ObjectStore

audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log")


@audit_app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Walk the chain and compare it with the anchors in the object store; exit 1 and list each break if a
    row was edited, inserted or deleted."""
    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        result = audit.verify(conn)
        result.problems += audit.check_anchors(conn, ObjectStore(settings), settings.s3.bucket_reports)
    emit({"ok": result.ok, "rows": result.rows, "head": result.head, "problems": result.problems}, as_json,
         lambda d: console.print(f"audit log {'[green]intact[/]' if d['ok'] else '[red]BROKEN[/]'}: {d['rows']} rows, "
                                 f"head {d['head'][:16]}" + "".join(f"\n  {p}" for p in d["problems"])))
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("anchor")
def anchor(as_json: bool = typer.Option(False, "--json")) -> None:
    """Write the chain head to the object-locked reports bucket (the expiry sweep does this too)."""
    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        emit(audit.anchor(conn, ObjectStore(settings), settings.s3.bucket_reports), as_json)


@audit_app.command("export")
def export(object_type: str | None = typer.Option(None, "--type"), object_id: str | None = typer.Option(None, "--id")) -> None:
    """Rows as JSON lines (for an auditor's own tools)."""
    import json

    settings = load_settings()
    with domain_errors(), connect(settings) as conn:
        for row in audit.export(conn, object_type=object_type, object_id=object_id):
            print(json.dumps(row, default=str, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
