"""`lfr watchlist build|show|diff|approve|activate|expire|purge|history|faces|probe`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.deployments import cameras, policy_store, thresholds
from lfr_core.deployments import service as deployments
from lfr_core.evaluation import conditions
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.times import format_time
from lfr_core.watchlist import gate, lifecycle
from lfr_core.watchlist.history import history as subject_history
from lfr_core.workflow.purge import purge as purge_version
from lfr_ops.cli.common import EXIT_REFUSED, console, domain_errors, emit, err_console, fail, load_settings, signed_in

watchlist = typer.Typer(no_args_is_help=True, help="Build, seal, activate, expire and purge watchlists")

JSON = typer.Option(False, "--json", help="One JSON object on the last line")


def _summary(version: dict[str, Any]) -> None:
    console.print(
        f"version [bold]{version['version']}[/] ({version['id']}) state=[bold]{version['state']}[/] "
        f"accepted={version['entries_accepted']} rejected={version['entries_rejected']}"
    )


def _entries_table(entries: list[dict[str, Any]]) -> Table:
    table = Table("subject_ref", "category", "status", "reason", "rationale", "provenance")
    for e in entries:
        status = "[green]accepted[/]" if e["status"] == "accepted" else "[red]rejected[/]"
        table.add_row(e["subject_ref"], e["category"], status, e["reason"] or "", e["rationale"], e["provenance"])
    return table


def _render_version(v: dict[str, Any]) -> None:
    """What an authoriser reads before approving: every entry with its reason, the models and the threshold."""
    console.print(_entries_table(v["entries"]))
    _summary(v)
    model = f"{v['detector']['name']} + {v['embedder']['name']} {v['embedder']['version']} " \
            f"(sha256 {v['embedder_sha256'][:12]}, {v['embedding_dim']}-d)"
    console.print(f"model: {model}; threshold {v['threshold']:.4f} ({v.get('threshold_source') or 'not recorded'})",
                  highlight=False)
    console.print(f"built by {v['built_by']} at {format_time(v['built_at'])}; manifest {v['manifest_uri']} "
                  f"(sha256 {v['manifest_sha256'][:12]})"
                  + (f"; approved by {v['approved_by']}" if v.get("approved_by") else ""), highlight=False)
    console.print(lifecycle.evidence_line(v), highlight=False)
    if v.get("live_gate"):  # the live gate and its evidence, with the threshold (issue 32 item 2)
        console.print(f"{v['reliable_face_line']}\n{v['live_gate']}", highlight=False, soft_wrap=True)
    for line in v.get("deployment_record", []):
        console.print(f"{line['label'].lower()}: {line['text']}", highlight=False)
    children = {e["subject_ref"]: e["under_18_rationale"] for e in v["entries"] if e.get("under_18_rationale")}
    for ref, why in children.items():  # the APP's under-18 rule (issue 27 item 5)
        console.print(f"under-18 rationale for {ref}: {why}", highlight=False, soft_wrap=True)
    for warning in v.get("warnings", []):
        console.print(f"[yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)


@watchlist.command("build")
def build(
    deployment_id: str = typer.Option(..., "--deployment"),
    manifest: str = typer.Option(..., "--manifest", help="CSV or JSON manifest: a file path or s3://bucket/key; "
                                                         "image paths in it are relative to the manifest"),
    build_key: str | None = typer.Option(None, "--build-key",
                                         help="Idempotency key of this deployment: a retry returns the same version"),
    as_json: bool = JSON,
) -> None:
    """Build a draft version (planner): every image through the face engine, each entry accepted or rejected with a reason."""
    from lfr_core.vision.engine import build_engine
    from lfr_core.watchlist.build import build_version, find_by_build_key

    settings = load_settings()
    with domain_errors(), signed_in(settings, "planner", "admin") as (conn, actor):
        retried = find_by_build_key(conn, deployment_id, build_key) if build_key else None
        version = retried or build_version(conn, ObjectStore(settings), build_engine(settings), settings,
                                           deployment_id=deployment_id, manifest_uri=manifest,
                                           actor=actor, build_key=build_key)
    emit(version, as_json, _render_version)
    if version["entries_accepted"] == 0:
        fail(f"no entry was accepted: version {version['version']} cannot be approved; fix the manifest and build "
             f"again", EXIT_REFUSED)


@watchlist.command("show")
def show(version_id: str, as_json: bool = JSON) -> None:
    """A version with every entry (accepted and rejected, with reasons), its models and threshold; no embeddings."""
    from lfr_core.watchlist.build import with_entries

    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        version = with_entries(conn, lifecycle.get_version(conn, version_id))
        # The face size the model recognises reliably, as recorded when the list was built, and the live gate
        # (issue 32 item 2); a list built before sizes were recorded shows what the model's latest curve gives.
        if version.get("reliable_face_px") is None:
            version["reliable_face_px"], version["reliable_face_px_source"] = cameras.reliable_face_px(
                settings, conditions.latest_reliable_size(conn, version["embedder_sha256"],
                                                          gate.version_factor(conn, settings, version)))
            version["reliable_face_line"] = (f"reliable face size: {version['reliable_face_px']} px "
                                             f"({version['reliable_face_px_source']}); not recorded with this list")
            version["reliable_face_px"] = None
        else:
            version["reliable_face_px_source"] = (version.get("reliable_face_source") or {}).get("text")
            version["reliable_face_line"] = (f"reliable face size: {version['reliable_face_px']} px "
                                             f"({version['reliable_face_px_source']})")
        version["live_gate"] = gate.gate_line(version, settings)
        # The deployment record the list is sealed under (issue 27 item 2): pack, use case, rationale, references.
        # With the threshold's floor for the list's model and the decision that set it (issue 27 item 4).
        deployment = deployments.get(conn, version["deployment_id"])
        model = thresholds.Model(version["embedder"].get("name"), version["embedder_sha256"])
        version["deployment_record"] = [{"label": label, "text": text} for label, text in (
            policy_store.record_lines(conn, deployment) + thresholds.record_lines(conn, deployment, model))]
    emit(version, as_json, _render_version)


@watchlist.command("diff")
def diff(old_version: str, new_version: str, as_json: bool = JSON) -> None:
    """Subjects added, removed and changed between two versions."""
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        delta = lifecycle.diff(conn, old_version, new_version)

    def render(d: dict[str, Any]) -> None:
        table = Table("subject_ref", "change", "details", title=f"version {d['from']['version']} -> {d['to']['version']}")
        for ref in d["added"]:
            table.add_row(ref, "[green]added[/]", "")
        for ref in d["removed"]:
            table.add_row(ref, "[red]removed[/]", "")
        for ref, fields in d["changed"].items():
            table.add_row(ref, "changed", "; ".join(f"{f}: {a!r} -> {b!r}" for f, (a, b) in fields.items()))
        console.print(table if d["added"] or d["removed"] or d["changed"] else "no subject changed")
        if d["model_changed"]:
            console.print("[bold]the embedding model changed[/]: scores of the two versions are not comparable")

    emit(delta, as_json, render)


def _transition_command(name: str, roles: tuple[str, ...], helptext: str):
    def command(version_id: str, as_json: bool = JSON) -> None:
        settings = load_settings()
        with domain_errors(), signed_in(settings, *roles) as (conn, actor):
            store = ObjectStore(settings)
            if name == "activate":  # the approval must be covered by a signed checkpoint before the list goes live
                audit_checkpoints.checkpoint(conn, store, settings)
            version = getattr(lifecycle, name)(conn, version_id, actor)
            version["audit_checkpoint"] = audit_checkpoints.checkpoint(conn, store, settings)
        emit(version, as_json, _summary)

    command.__doc__ = helptext
    watchlist.command(name)(command)


@watchlist.command("approve")
def approve(
    version_id: str,
    evidence_override: str | None = typer.Option(
        None, "--evidence-override", metavar="REASON",
        help="Seal a list whose false alerts at its size the recorded impostor evidence does not resolve, for this "
             "reason (kept on the version in your name and audited)"),
    as_json: bool = JSON,
) -> None:
    """Seal a draft: an authoriser who did not build it approves its criteria hash."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "authoriser") as (conn, actor):
        version = lifecycle.approve(conn, version_id, actor, evidence_override=evidence_override)
        version["audit_checkpoint"] = audit_checkpoints.checkpoint(conn, ObjectStore(settings), settings)
    emit(version, as_json, _summary)


_transition_command("activate", ("operator", "admin"), "Make an approved version live; only inside the deployment window.")
_transition_command("expire", ("operator", "admin"), "End an approved or active version.")


@watchlist.command("purge")
def purge(version_id: str,
          reason: str = typer.Option(..., "--reason", help="Why now (recorded in the receipt and the audit log)"),
          as_json: bool = JSON) -> None:
    """Delete templates and copied images, verify nothing remains, write a deletion receipt."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, actor):
        store = ObjectStore(settings)
        receipt = purge_version(conn, store, settings, version_id, actor, reason=reason)
        receipt["audit_checkpoint"] = audit_checkpoints.checkpoint(conn, store, settings)

    def render(r: dict[str, Any]) -> None:
        missing = (r.get("already_missing") or {}).get("image_objects", 0)
        console.print(f"purged version {r['version']} ({r['version_id']}): {r['deleted']['embeddings']} templates and "
                      f"{r['deleted']['image_objects']} images deleted (confirmed), {missing} already missing, verified "
                      f"by listing {r['verified']['listing']}; reason: {r['reason']}; receipt {r['receipt_uri']}",
                      highlight=False)
        kept = r.get("kept_for_adjudication") or {}
        if kept.get("image_objects"):
            err_console.print(f"[bold yellow]warning:[/] {len(kept['alert_ids'])} alert(s) still await adjudication; "
                              f"{kept['image_objects']} watchlist image(s) are kept for the officer and deleted once "
                              f"each alert is decided or reaches retention: {', '.join(kept['alert_ids'])}")

    emit(receipt, as_json, render)


@watchlist.command("history")
def history(subject_ref: str, as_json: bool = JSON) -> None:
    """Was this subject on a list, when, for which deployment (from the kept snapshots, no templates)."""
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        found = subject_history(conn, ObjectStore(settings), subject_ref)

    def render(rows: list[dict[str, Any]]) -> None:
        table = Table("deployment", "place", "window", "version", "state", "entry")
        for r in rows:
            table.add_row(r.get("deployment_id", ""), r.get("place", ""), format_time(r.get('window_start')),
                          str(r.get("version", "")), r.get("state", ""), r.get("entry_status", r.get("error", "")))
        console.print(table if rows else f"{subject_ref} was never on a watchlist")

    emit({"subject_ref": subject_ref, "occurrences": found}, as_json, lambda d: render(d["occurrences"]))


@watchlist.command("faces")
def faces(version_id: str,
          reason: str = typer.Option(..., "--reason", help="Why you look (logged with the consultation)"),
          page: int = typer.Option(1, "--page", min=1),
          out: Path | None = typer.Option(None, "--out", help="Write this page's face crops here as JPEG files"),
          as_json: bool = JSON) -> None:
    """Page through a version's accepted faces (crops, not the custody photographs): an authoriser assigned to its
    deployment, each page a logged consultation with its reason."""
    from lfr_core.watchlist import inspection

    settings = load_settings()
    with domain_errors(), signed_in(settings, "authoriser") as (conn, actor):
        shown = inspection.faces(conn, ObjectStore(settings), actor, version_id, reason=reason, page=page)
    files: dict[int, str] = {}
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for face in shown.faces:
            path = out / f"{face.subject_ref}-{face.image_index}.jpg"
            path.write_bytes(face.jpeg)
            files[face.entry_id] = str(path)
    data = {"version_id": shown.version_id, "page": shown.page, "pages": shown.pages, "total": shown.total,
            "faces": [{"entry_id": f.entry_id, "subject_ref": f.subject_ref, "image_index": f.image_index,
                       "category": f.category, "file": files.get(f.entry_id)} for f in shown.faces]}

    def render(d: dict[str, Any]) -> None:
        table = Table("subject_ref", "image", "category", "file", title=f"page {d['page']} of {d['pages']} "
                                                                          f"({d['total']} accepted faces)")
        for f in d["faces"]:
            table.add_row(f["subject_ref"], str(f["image_index"]), f["category"], f["file"] or "")
        console.print(table)

    emit(data, as_json, render)


@watchlist.command("probe")
def probe(version_id: str,
          image: Path = typer.Option(..., "--image", exists=True, dir_okay=False, help="The probe image (never stored)"),
          reason: str = typer.Option(..., "--reason", help="Why you test (logged with the consultation)"),
          as_json: bool = JSON) -> None:
    """Test a probe image against a version: each face's top candidates with scores against the list's threshold,
    and the projected false-alert rate at its size; an authoriser assigned to its deployment, logged."""
    from lfr_core.vision.engine import build_engine
    from lfr_core.watchlist import inspection

    settings = load_settings()
    with domain_errors(), signed_in(settings, "authoriser") as (conn, actor):
        result = inspection.probe(conn, build_engine(settings), settings, actor, version_id, image.read_bytes(),
                                  reason=reason)

    def render(d: dict[str, Any]) -> None:
        console.print(f"threshold {d['threshold']:.4f}; {inspection.projected_line(result)}", highlight=False)
        if not d["faces"]:
            console.print("no face found in the probe")
        for n, face in enumerate(d["faces"], 1):
            table = Table("subject_ref", "image", "category", "score", "alert", title=f"face {n}: {face['note']}")
            for c in face["candidates"]:
                table.add_row(c["subject_ref"], str(c["image_index"]), c["category"], f"{c['score']:.4f}",
                              "[bold red]yes[/]" if c["would_alert"] else "no")
            console.print(table)

    emit(result.to_json(), as_json, render)


def register(app: typer.Typer) -> None:
    app.add_typer(watchlist, name="watchlist")
