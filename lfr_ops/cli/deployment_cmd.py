"""`lfr deployment create|show|assign|references|authorise|urgent-start|cancel|list`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import typer
from rich.table import Table

from lfr_core.deployments import policy_store, thresholds
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput
from lfr_core.times import format_span
from lfr_ops.cli.common import console, domain_errors, emit, load_settings, signed_in

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
    use_case: str = typer.Option(..., "--use-case", help="The use case, from the policy pack's closed list "
                                                         "(lfr policy show PACK)"),
    location_rationale: str = typer.Option(..., "--location-rationale",
                                           help="Why the people on the list are expected at this place"),
    policy: str | None = typer.Option(None, "--policy", help="The policy pack it runs under (default: "
                                                             "LFR_POLICY__DEFAULT_PACK, uk-app), its latest loaded "
                                                             "version"),
    dpia_ref: str | None = typer.Option(None, "--dpia-ref", help="Reference of the data protection impact assessment"),
    eia_ref: str | None = typer.Option(None, "--eia-ref", help="Reference of the equality impact assessment"),
    fria_ref: str | None = typer.Option(None, "--fria-ref", help="Reference of the fundamental rights impact "
                                                                 "assessment (EU: Art 27)"),
    registration_ref: str | None = typer.Option(None, "--registration-ref",
                                                help="Reference of the EU database registration (Art 49(4))"),
    notice_withheld_reason: str | None = typer.Option(
        None, "--notice-withheld-reason", help="Withhold the advance public notice for a critical threat, for this "
                                               "recorded reason (only where the pack allows it)"),
    category: list[str] | None = typer.Option(None, "--category", help="Allowed watchlist categories (default: every "
                                                                       "category the use case permits)"),
    threshold: float | None = typer.Option(
        None, help="Cosine threshold within LFR_MATCH__THRESHOLD_MIN..MAX (default: calibrated for the list's own "
                   "model at LFR_MATCH__TARGET_FPIR by `lfr eval --record`; LFR_MATCH__THRESHOLD if never calibrated)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Plan a deployment (planner); its window must lie in the future."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "planner", "admin") as (conn, actor):
        actor.require("planner", "admin", to="create a deployment")
        spec = deployments.validate_spec(
            {"place": place, "purpose": purpose, "legal_basis": legal_basis, "intelligence_ref": intelligence_ref,
             "window_start": start, "window_end": end, "authorising_officer": authorising_officer,
             "allowed_categories": category or None, "threshold": threshold, "policy": policy, "use_case": use_case,
             "location_rationale": location_rationale, "dpia_ref": dpia_ref, "eia_ref": eia_ref, "fria_ref": fria_ref,
             "registration_ref": registration_ref, "notice_withheld_reason": notice_withheld_reason},
            settings,
        )
        row = deployments.create(conn, spec, actor, settings)
    emit(row, as_json, lambda r: console.print(f"deployment [bold]{r['id']}[/] planned at {r['place']}"))


@deployment.command("show")
def show(deployment_id: str = typer.Argument(..., help="The deployment's id, or a unique start of it (8 hex digits)"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """One deployment, the threshold in force and its watchlist versions."""
    from lfr_core.deployments import authorisation
    from lfr_core.watchlist import gate
    from lfr_core.watchlist.lifecycle import list_versions

    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        row = deployments.get(conn, deployments.resolve_id(conn, deployment_id))
        versions = list_versions(conn, row["id"])
        # The deployment record, with the threshold's floor for the lists' model and the decision that set it.
        latest = max(versions, key=lambda v: v["version"], default=None)
        row["record"] = policy_store.record_lines(conn, row) + thresholds.record_lines(
            conn, row, None if latest is None else thresholds.Model(latest["embedder"].get("name"),
                                                                    latest["embedder_sha256"]))
        row["versions"] = [{k: v[k] for k in ("id", "version", "state", "entries_accepted", "threshold", "built_by",
                                               "approved_by")} for v in versions]
        current = gate.current_version(conn, row["id"])
        # The live gate with its evidence, shown with the threshold (issue 32 item 2).
        row["live_gate"] = None if current is None else {
            "version": current["version"], "gate_face_px": gate.gate_face_px(current, settings),
            "reliable_face_px": current.get("reliable_face_px"), "line": gate.gate_line(current, settings)}
        row["cameras"] = deployments.cameras_of(conn, row["id"])
        row["authorisation"] = authorisation.summary(conn, row["id"])  # Art 5(3), issue 27 item 3
    live = [v for v in row["versions"] if v["state"] == "active"]
    # What alerts are decided at now: the live list's threshold (each list carries its own, calibrated or set).
    row["threshold_in_force"] = live[0]["threshold"] if live else None

    def render(d: dict[str, Any]) -> None:
        terms = Table(show_header=False, title=f"deployment {d['id']}")
        for label, key in (("place", "place"), ("status", "status"), ("purpose", "purpose"),
                           ("legal basis", "legal_basis"), ("intelligence ref", "intelligence_ref"),
                           ("authorising officer", "authorising_officer"), ("created by", "created_by")):
            terms.add_row(label, str(d[key]))
        terms.add_row("window", format_span(d["window_start"], d["window_end"]))
        for label, value in d["record"]:
            terms.add_row(label.lower(), value)
        terms.add_row("categories", ", ".join(d["allowed_categories"]))
        live = next((v for v in d["versions"] if v["state"] == "active"), None)
        terms.add_row("threshold in force", "none: no list is live" if live is None
                      else f"{live['threshold']:.4f} (list v{live['version']})")
        terms.add_row("threshold planned", "calibrated per list" if d["threshold"] is None else f"{d['threshold']:.4f}")
        terms.add_row("live gate", "no list built yet" if d["live_gate"] is None
                      else f"v{d['live_gate']['version']}: {d['live_gate']['line']}")
        terms.add_row("external authorisation", authorisation_line(d["authorisation"]))
        if d["cancel_reason"]:
            terms.add_row("cancelled", d["cancel_reason"])
        console.print(terms)
        console.print(camera_table(d["cameras"]) if d["cameras"] else "no camera registered (lfr camera add)")
        versions = Table("version", "id", "state", "accepted", "threshold", "built by", "approved by")
        for v in d["versions"]:
            versions.add_row(str(v["version"]), str(v["id"]), v["state"], str(v["entries_accepted"]),
                             f"{v['threshold']:.4f}", v["built_by"], v["approved_by"] or "-")
        console.print(versions if d["versions"] else "no watchlist built yet")

    emit(row, as_json, render)


def authorisation_line(summary: dict[str, Any]) -> str:
    """The deployment's external prior authorisation in one line: its state and what was recorded."""
    parts = [summary["state"].replace("_", " ")]
    for r in summary["records"]:
        if r["kind"] == "urgent_start":
            parts.append(f"urgent start by {r['recorded_by']}, decision due by {r['deadline']:%Y-%m-%d %H:%M %Z}")
        else:
            parts.append(f"{r['kind']} by {r['authority']} ({r['decision_ref']}), recorded by {r['recorded_by']}")
    if summary["deletion_receipt"]:
        receipt = summary["deletion_receipt"]
        parts.append(f"use discarded {receipt['deleted_at']:%Y-%m-%d %H:%M %Z}: {receipt['deleted']['alerts']} "
                     f"alert(s) deleted ({receipt['reason']})")
    return "; ".join(parts)


def camera_table(cameras: list[dict[str, Any]]) -> Table:
    """The registered cameras with their range (issue 32 item 3)."""
    table = Table("camera", "resolution", "hfov", "face", "reliable size", "range", "registered by",
                  title="cameras: how far from each a face can still be recognised")
    for c in cameras:
        table.add_row(c["name"], f"{c['width_px']}x{c['height_px']}", f"{c['hfov_deg']:g}°",
                      f"{c['face_width_m']:g} m", f"{c['face_px']} px", f"{c['max_distance_m']:.2f} m",
                      c["registered_by"])
    return table


@deployment.command("gate")
def gate_(deployment_id: str = typer.Argument(..., help="The deployment's id, or a unique start of it"),
          face_px: int = typer.Option(..., "--face-px", help="The face size, in pixels, the live gate admits from"),
          reason: str | None = typer.Option(None, "--reason", help="Why the deployment runs below the reliable face "
                                                                   "size (needed below it; recorded and audited)"),
          as_json: bool = typer.Option(False, "--json")) -> None:
    """Set the live gate's face size of the deployment's current list (authoriser). Below the reliable size its
    model's size curve gives, only with --reason: the authoriser's recorded decision (refused otherwise, exit 3)."""
    from lfr_core.watchlist import gate

    settings = load_settings()
    with domain_errors(), signed_in(settings, "authoriser") as (conn, actor):
        row = gate.set_deployment_gate(conn, deployments.resolve_id(conn, deployment_id), actor, face_px, reason)
        result = {"deployment_id": str(row["deployment_id"]), "version_id": str(row["id"]), "version": row["version"],
                  "gate_face_px": row["gate_face_px"], "reliable_face_px": row["reliable_face_px"],
                  "decided_by": row["gate_decided_by"], "reason": row["gate_reason"],
                  "line": gate.gate_line(row, settings)}
    emit(result, as_json, lambda r: console.print(f"deployment {r['deployment_id']} list v{r['version']}: {r['line']}",
                                                  highlight=False, soft_wrap=True))


@deployment.command("references")
def references(deployment_id: str,
               dpia_ref: str | None = typer.Option(None, "--dpia-ref"),
               eia_ref: str | None = typer.Option(None, "--eia-ref"),
               fria_ref: str | None = typer.Option(None, "--fria-ref"),
               registration_ref: str | None = typer.Option(None, "--registration-ref"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Record references to assessments a planned deployment lacks (planner or admin), before its list is sealed;
    a reference once recorded never changes."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "planner", "admin") as (conn, actor):
        row = deployments.add_references(
            conn, deployments.resolve_id(conn, deployment_id),
            {"dpia": dpia_ref, "eia": eia_ref, "fria": fria_ref, "registration": registration_ref}, actor)
    emit(row, as_json, lambda r: console.print(f"deployment {r['id']}: " + "; ".join(
        f"{kind} {r[f'{kind}_ref'] or '-'}" for kind in ("dpia", "eia", "fria", "registration")), highlight=False))


@deployment.command("authorise")
def authorise(deployment_id: str = typer.Argument(..., help="The deployment's id, or a unique start of it"),
              authority: str = typer.Option(..., "--authority", help="The judicial or independent administrative "
                                                                     "authority that decided (Art 5(3))"),
              authority_kind: str = typer.Option(..., "--authority-kind", help="judicial, or administrative (an "
                                                                         "independent authority whose decision binds)"),
              decision_ref: str = typer.Option(..., "--decision-ref", help="The reference of its decision"),
              decided_on: datetime | None = typer.Option(None, "--date", formats=["%Y-%m-%d"],
                                                         help="The day it decided (YYYY-MM-DD; required to grant)"),
              scope: str | None = typer.Option(None, "--scope", help="What it authorised (required to grant)"),
              refused: bool = typer.Option(False, "--refused", help="The authority refused: matching stops at once "
                                                                    "and everything the use produced is deleted"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Record the external prior authorisation of a deployment whose policy pack requires it (authoriser). With
    --refused, the use stops at once and its alerts, crops, counters and results are deleted with a receipt."""
    from lfr_core.deployments import authorisation
    from lfr_core.storage.objectstore import ObjectStore
    from lfr_core.workflow.discard import refuse

    settings = load_settings()
    day = decided_on.date() if decided_on is not None else None
    with domain_errors(), signed_in(settings, "authoriser") as (conn, actor):
        dep_id = deployments.resolve_id(conn, deployment_id)
        if refused:
            result: dict[str, Any] = refuse(conn, ObjectStore(settings), settings, dep_id, actor, authority=authority,
                                            authority_kind=authority_kind, decision_ref=decision_ref,
                                            decided_on=day, scope=scope)
            emit(result, as_json, lambda r: console.print(
                f"deployment {dep_id}: authorisation refused; matching stopped; deleted {r['deleted']['alerts']} "
                f"alert(s), {r['object_versions_deleted']} crop object(s), {r['deleted']['counter_rows']} counter "
                f"row(s); receipt recorded {r['deleted_at']}", highlight=False))
            return
        authorisation.record_decision(conn, dep_id, actor, authority=authority, authority_kind=authority_kind,
                                      decision_ref=decision_ref, decided_on=day, scope=scope)
        result = authorisation.summary(conn, dep_id)
    emit(result, as_json, lambda r: console.print(f"deployment {dep_id}: authorisation {r['state']}",
                                                  highlight=False))


@deployment.command("urgent-start")
def urgent_start(deployment_id: str = typer.Argument(..., help="The deployment's id, or a unique start of it"),
                 justification: str = typer.Option(..., "--justification",
                                                   help="Why the use cannot wait for the authority's decision"),
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Start a use before its external authorisation in a duly justified urgency (authoriser): the list may go
    live, and the authority's decision must be recorded before the pack's deadline (24 hours in eu-ai-act), or the
    use is stopped and everything it produced deleted."""
    from lfr_core.deployments import authorisation

    settings = load_settings()
    with domain_errors(), signed_in(settings, "authoriser") as (conn, actor):
        dep_id = deployments.resolve_id(conn, deployment_id)
        row = authorisation.urgent_start(conn, dep_id, actor, justification)
    emit(row, as_json, lambda r: console.print(
        f"deployment {dep_id}: urgent start recorded; the authority's decision is due by {r['deadline']}",
        highlight=False))


@deployment.command("cancel")
def cancel(deployment_id: str,
           reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit log and purge receipts)"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Cancel a deployment (planner or admin): frames are refused at once, no list may go live for it, its DAG
    run ends, and the expiry sweep expires and purges every version within its interval."""
    from lfr_core.storage.objectstore import ObjectStore
    from lfr_core.workflow.cancel import cancel_deployment

    settings = load_settings()
    with domain_errors(), signed_in(settings, "planner", "admin") as (conn, actor):
        result = cancel_deployment(conn, ObjectStore(settings), settings, deployment_id, actor, reason,
                                   take_down=False)
    emit(result, as_json, lambda r: console.print(
        f"deployment {r['deployment_id']} cancelled ({r['reason']}); frames are refused now and the expiry sweep "
        f"purges its lists", highlight=False))


@deployment.command("assign")
def assign(deployment_id: str, person: str = typer.Option(..., "--person", help="Who (their sign-in name)"),
           role: str = typer.Option("operator", "--role", help="operator (sees and decides its alerts) or authoriser"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Assign a person to a deployment (planner or admin); operators see only their deployments' alerts."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "planner", "admin") as (conn, actor):
        row = deployments.assign(conn, deployment_id, person, role, actor)
    emit(row, as_json, lambda r: console.print(f"{r['person']} is a {r['role']} of deployment {r['deployment_id']}",
                                               highlight=False))


@deployment.command("list")
def list_(as_json: bool = typer.Option(False, "--json")) -> None:
    """All deployments, latest window first."""
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        rows = deployments.list_all(conn)

    def render(items: list[dict]) -> None:
        table = Table("id", "place", "window", "status")
        for r in items:
            table.add_row(str(r["id"]), r["place"], format_span(r["window_start"], r["window_end"]), r["status"])
        console.print(table)

    emit(rows, as_json, render)


def register(app: typer.Typer) -> None:
    app.add_typer(deployment, name="deployment")


@deployment.command("threshold")
def threshold_(deployment_id: str = typer.Argument(..., help="The deployment's id, or a unique start of it"),
               value: float = typer.Option(..., "--value", help="The new cosine threshold"),
               evaluation: int = typer.Option(..., "--evaluation", help="The recorded equitability evaluation "
                                                                        "(lfr eval --group-by ... --record) valid at it"),
               reason: str = typer.Option(..., "--reason", help="Why (recorded with the decision and audited)"),
               list_size: int | None = typer.Option(None, "--list-size", min=1,
                                                    help="Project false alerts for a list of this size (default: "
                                                         "the latest list's accepted entries)"),
               yes: bool = typer.Option(False, "--yes", help="Record the decision (without it: the preview only)"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Change a deployment's threshold (authoriser): shows the per-group rates with intervals and the trade (false
    alerts per 10,000 faces, FNIR) at the old and the new value from the named evaluation, and records the
    decision only with --yes. Under the pack's floor, or with an evaluation that does not cover the value: exit 3."""
    from lfr_core.watchlist.lifecycle import list_versions

    settings = load_settings()
    with domain_errors(), signed_in(settings, "authoriser") as (conn, actor):
        row = deployments.get(conn, deployments.resolve_id(conn, deployment_id))
        latest = max(list_versions(conn, row["id"]), key=lambda v: v["version"], default=None)
        model = None if latest is None else thresholds.Model(latest["embedder"].get("name"), latest["embedder_sha256"])
        size = list_size or (latest["entries_accepted"] if latest else None)
        if size is None:
            raise InvalidInput("no list is built yet: give --list-size to project false alerts")
        current = row["threshold"] if row["threshold"] is not None else (latest["threshold"] if latest else None)
        shown = thresholds.preview(conn, row, value=value, evaluation_id=evaluation, list_size=size,
                                   current=current, model=model)
        if yes:
            shown["decision"] = thresholds.decide(conn, row, shown, reason, actor)
    emit(shown, as_json, _render_threshold)
    if not yes and not as_json:
        console.print("not recorded: run again with --yes to decide" if shown["allowed"]
                      else "[bold]not allowed[/]: " + "; ".join(shown["problems"]), highlight=False)


def _render_threshold(p: dict[str, Any]) -> None:
    """The trade at the old and new values, then each group's rates with their 95% intervals at both."""
    sides = [("old", p["old"]), ("new", p["new"])] if p["old"] else [("new", p["new"])]
    trade = Table("", "threshold", "false alerts / 10,000 faces", "FPIR at list size", "FNIR",
                  title=f"deployment {p['deployment_id']}: list of {p['new']['list_size']}, {p['new']['source']}; "
                        f"floor {p['floor']:.4f}" if p["floor"] is not None else "no floor (planned before packs)")
    for label, s in sides:
        trade.add_row(label, f"{s['threshold']:.4f}", f"{s['false_alerts_per_10000_faces']:.2f}",
                      f"{s['fpir_at_list_size']:.2e}", "-" if s["fnir"] is None else f"{s['fnir']:.3f}")
    console.print(trade)
    groups = Table("group", *[f"{m} at {s['threshold']:.4f}" for _, s in sides for m in ("FNIR", "FPIR")],
                   title=f"per {p['new']['per_group']['group_by']}, 95% intervals over identities")
    for g in p["new"]["per_group"]["groups"]:
        cells = []
        for _, s in sides:
            e = s["per_group"]["groups"].get(g, {})
            cells += [_rate(e.get("fnir"), e.get("fnir_ci95")), _rate(e.get("fpir"), e.get("fpir_ci95"))]
        groups.add_row(g, *cells)
    console.print(groups)
    for label, s in sides:
        for r in s["per_group"]["ratios"].values():
            if r:
                console.print(f"{label} {s['threshold']:.4f}: {r['verdict']}", highlight=False, soft_wrap=True)
    if p.get("decision"):
        d = p["decision"]
        console.print(f"decision #{d['id']} recorded: {d['old_threshold']} -> {d['new_threshold']:.4f} by "
                      f"{d['decided_by']} (evaluation #{d['calibration_id']}, floor {d['floor']:.4f})",
                      highlight=False)


def _rate(value: float | None, ci: list[float | None] | None) -> str:
    if value is None:
        return "-"
    lo, hi = ci or (None, None)
    return f"{value:.3f}" + ("" if lo is None or hi is None else f" ({lo:.3f}-{hi:.3f})")
