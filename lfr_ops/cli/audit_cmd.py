"""`lfr audit verify|checkpoint|export`."""

from __future__ import annotations

import typer

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.audit import witness as audit_witness
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.times import format_time
from lfr_ops.cli.common import console, domain_errors, emit, load_settings, signed_in

audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log")


@audit_app.command("verify")
def verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Walk the chain and check it against every signed checkpoint and against the witness this auditor keeps
    (LFR_AUDIT__WITNESS_FILE, and LFR_AUDIT__WITNESS_MIRROR); exit 1 and list each problem if a row was edited,
    inserted, deleted or reordered, a checkpoint is missing, stale, forged or gone since the last run, the
    newest checkpoint does not extend the one last verified, or a decision row is not covered by a checkpoint.
    The first run, with no witness yet, trusts what it finds and says so; a clean run moves the witness on."""
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        result = audit_witness.verify_log(conn, ObjectStore(settings), settings)
    emit({"ok": result.ok, "rows": result.rows, "head": result.head, "problems": result.problems,
          "notes": result.notes, "witness": result.witness, **result.summary}, as_json,
         lambda d: console.print(f"audit log {'[green]intact[/]' if d['ok'] else '[red]BROKEN[/]'}: {d['rows']} rows, "
                                 f"head {d['head'][:16]}, {d['checkpoints']} checkpoints (latest covers "
                                 f"{d['latest_tree_size']} rows, signed {format_time(d['latest_signed_at'])})"
                                 + "".join(f"\n  {p}" for p in d["problems"])
                                 + "".join(f"\n  [dim]note: {n}[/]" for n in d["notes"]), highlight=False))
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def checkpoint(as_json: bool = typer.Option(False, "--json")) -> None:
    """Sign the log's Merkle tree head and store it under compliance lock (the expiry sweep does this on a timer)."""
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        emit(audit_checkpoints.checkpoint(conn, ObjectStore(settings), settings), as_json)


@audit_app.command("export")
def export(object_type: str | None = typer.Option(None, "--type"), object_id: str | None = typer.Option(None, "--id")) -> None:
    """Rows as JSON lines (for an auditor's own tools)."""
    import json

    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        for row in audit.export(conn, object_type=object_type, object_id=object_id):
            print(json.dumps(row, default=str, sort_keys=True))


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
