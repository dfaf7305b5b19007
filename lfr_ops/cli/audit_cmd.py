"""`lfr audit verify|checkpoint|export|use-log`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.audit import use_log
from lfr_core.audit import witness as audit_witness
from lfr_core.deployments import policy_store
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
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        for row in audit.export(conn, object_type=object_type, object_id=object_id):
            print(json.dumps(row, default=str, sort_keys=True))


@audit_app.command("use-log")
def use_log_cmd(deployment_id: str,
                check: Path | None = typer.Option(None, "--check", exists=True, dir_okay=False,
                                                  help="Verify a use log exported earlier against the audit log"),
                as_json: bool = typer.Option(False, "--json")) -> None:
    """The deployment's per-use log (EU AI Act Art 12(3)): each use's start and end, its reference database
    (version, snapshot hash, model), each match's alert id and probe-crop sha256, and who verified it; derived from
    the audit log, kept LFR_AUDIT__USE_LOG_RETENTION_DAYS after the use. With --check, exit 1 and list each way the
    file departs from the audit log."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "auditor", "admin") as (conn, _):
        if check is not None:
            problems = use_log.verify(conn, json.loads(check.read_bytes()))
            emit({"ok": not problems, "problems": problems}, as_json,
                 lambda d: console.print("use log [green]matches the audit log[/]" if d["ok"] else
                                         "use log [red]DIFFERS[/]" + "".join(f"\n  {p}" for p in d["problems"]),
                                         highlight=False))
            if problems:
                raise typer.Exit(1)
            return
        # kept for the deployment's pack's retention (the setting for one planned before packs)
        log = use_log.export(conn, deployment_id,
                             retention_days=policy_store.use_log_retention_days(conn, settings, deployment_id))
    emit(log, as_json, _render_use_log)
    if not log["verified"]["ok"]:
        raise typer.Exit(1)


def _render_use_log(log: dict[str, Any]) -> None:
    console.print(f"deployment {log['deployment_id']}: {len(log['uses'])} use(s); audit chain "
                  + ("[green]intact[/]" if log["verified"]["ok"] else "[red]BROKEN[/]"), highlight=False)
    for n, use in enumerate(log["uses"], 1):
        ref = use["reference_database"] or {}
        console.print(f"use {n}: {format_time(use['start']) if use['start'] else 'never started'} to "
                      f"{format_time(use['end']) if use['end'] else 'now'} ({use['ended_by'] or 'running'}); "
                      f"version {ref.get('version_id', '-')} snapshot {(ref.get('snapshot_sha256') or '-')[:16]}; "
                      f"{len(use['matches'])} match(es); kept until {format_time(use['keep_until'])}",
                      highlight=False)
        for m in use["matches"]:
            who = ", ".join(f"{v['person']} ({v['decision']})" for v in m["verified_by"]) or "not verified"
            console.print(f"  alert {m['alert_id']} crop sha256 {(m['probe_crop_sha256'] or '-')[:16]}: {who}",
                          highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
