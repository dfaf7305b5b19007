"""`lfr apikey create|list|revoke`, `lfr alert list|adjudicate|engagement|hold|release` and
`lfr alert review assign|record|list` (issue 28 items 1 and 5)."""

from __future__ import annotations

import typer
from rich.table import Table

from lfr_core.alerts import reviews
from lfr_core.alerts import service as alerts
from lfr_core.alerts.model import Verification
from lfr_core.deployments import camera_keys as apikeys
from lfr_core.identity import consultations
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.times import format_time
from lfr_ops.cli.common import console, domain_errors, emit, load_settings, signed_in

apikey = typer.Typer(no_args_is_help=True, help="Camera keys for the live service: they only post frames "
                                                "(stored as sha256 only)")
alert = typer.Typer(no_args_is_help=True, help="Alerts: list, adjudicate, engagement result, legal hold, review")
review = typer.Typer(no_args_is_help=True, help="Post-deployment review of unconfirmed true alerts and false alerts")


@apikey.command("create")
def create_key(
    name: str = typer.Option(..., "--name", help="The camera (or feed) that uses the key"),
    deployment: str = typer.Option(..., "--deployment", help="The one deployment the key may post frames to"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Create a camera key (admin); it is printed once and only its sha256 is kept."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, actor):
        raw = apikeys.create(conn, name, actor, deployment_id=deployment)
    emit({"api_key": raw, "name": name, "role": apikeys.CAMERA, "deployment_id": deployment}, as_json,
         lambda d: console.print(f"camera key for {name}; shown once, store it now:\n{d['api_key']}"))


@apikey.command("revoke")
def revoke_key(key: str = typer.Argument(..., help="The key or its sha256"),
               as_json: bool = typer.Option(False, "--json")) -> None:
    """Revoke a key at once (admin); the live service refuses it from its next request."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, actor):
        row = apikeys.revoke(conn, key, actor)
    emit({"revoked": row}, as_json,
         lambda d: console.print(f"revoked the {d['revoked']['role']} key of {d['revoked']['name']}", highlight=False))


@apikey.command("list")
def list_keys(include_revoked: bool = typer.Option(False, "--all", help="Also list revoked keys"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Keys by camera and deployment (admin; the keys themselves are never stored)."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, actor):
        rows = apikeys.list_keys(conn, actor, include_revoked=include_revoked)

    def render(items: list[dict]) -> None:
        table = Table("key id (sha256)", "name", "role", "deployment", "created", "revoked")
        for r in items:
            table.add_row(r["key_id"], r["name"], r["role"], str(r["deployment_id"] or "-"),
                          format_time(r["created_at"]), format_time(r["revoked_at"], missing=""))
        console.print(table)

    emit(rows, as_json, render)


@alert.command("list")
def list_cmd(deployment: str = typer.Option(..., "--deployment"),
             reason: str = typer.Option(..., "--reason", help="Why you are viewing them (logged: DPA 2018 s.62)"),
             status: str | None = typer.Option(None, "--status", help="pending, confirmed (viable) or declined (not viable)"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Alerts of a deployment, newest first (its operators, admins, auditors); the consultation is logged
    with its reason."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "operator", "admin", "auditor") as (conn, viewer):
        viewer.require("operator", "admin", "auditor", to="list alerts")
        consultations.checked_reason(reason)
        # Under two-person verification the first assessment is not shown to anyone else before the second.
        rows = [alerts.as_seen_by(r, viewer.name) for r in alerts.list_alerts(conn, deployment, status=status)]
        consultations.record(conn, viewer, "alert_list", "deployment", deployment, reason, status=status,
                             alerts=len(rows))

    def render(items):
        table = Table(title=f"alerts of {deployment}")
        for column in ("id", "subject", "score", "camera", "captured", "status", "verification"):
            table.add_column(column)
        for r in items:
            table.add_row(str(r["id"]), r["subject_ref"], f"{r['score']:.3f}", r["camera_id"],
                          format_time(r["captured_at"]), r["status"], verifiers(r))
        console.print(table)

    emit(rows, as_json, render)


@alert.command("adjudicate")
def adjudicate_cmd(alert_id: str, outcome: str = typer.Argument(
                       ..., help="The viability assessment: confirmed (viable) or declined (not viable); not_engaged: "
                                 "viable, and officers decided not to engage"),
                   note: str = typer.Option("", "--note"), as_json: bool = typer.Option(False, "--json")) -> None:
    """An operator's decision on an alert of their deployment, in their own name."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "operator", "admin") as (conn, actor):
        row = alerts.as_seen_by(alerts.adjudicate(conn, ObjectStore(settings), alert_id, outcome, actor, note),
                                actor.name)
    emit(row, as_json, lambda r: console.print(f"alert {r['id']}: " + (
        verifiers(r) if r["verification"] != Verification.NOT_REQUIRED else f"{r['status']} by {r['adjudicated_by']}"),
        highlight=False))


def verifiers(row: dict) -> str:
    """Where an alert stands under two-person verification (issue 28 item 2), with both names once both decided."""
    if row["verification"] in (Verification.VERIFIED, Verification.NOT_VERIFIED):
        return (f"{row['verification']}: {row['status']} by {row['adjudicated_by']}, "
                f"{row['second_status']} by {row['second_by']}")
    if row["verification"] == Verification.AWAITING_SECOND:
        return "awaiting second verifier" + (f" ({row['status']} by {row['adjudicated_by']})"
                                             if row["adjudicated_by"] else ": your own assessment, unseen by the first")
    return str(row["verification"])


@alert.command("engagement")
def engagement_cmd(alert_id: str,
                   result: str = typer.Argument(..., help="subject or someone_else (engaged), evaded or not_engaged"),
                   outcome: str | None = typer.Option(None, "--outcome",
                                                      help="With an engaged result: arrest, other or no_action"),
                   note: str = typer.Option("", "--note"), as_json: bool = typer.Option(False, "--json")) -> None:
    """The engagement result after a viable (confirmed) match, and its outcome, in your own name, once."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "operator", "admin") as (conn, actor):
        row = alerts.record_engagement(conn, alert_id, result, actor, note, disposal=outcome)
    emit(row, as_json, lambda r: console.print(
        f"alert {r['id']}: {r['engagement']}" + (f", {r['disposal']}" if r["disposal"] else "")
        + f" by {r['engagement_by']}", highlight=False))


@review.command("assign")
def review_assign_cmd(alert_id: str, reviewer: str = typer.Option(..., "--reviewer", help="An operator, admin or "
                                                                  "auditor who took no part in the decision"),
                      as_json: bool = typer.Option(False, "--json")) -> None:
    """Assign an alert's post-deployment review (admin, after the window)."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, actor):
        row = reviews.assign(conn, alert_id, reviewer, actor)
    emit(row, as_json, lambda r: console.print(f"alert {r['alert_id']} ({r['alert_class'].replace('_', ' ')}): "
                                               f"review assigned to {r['reviewer']}", highlight=False))


@review.command("record")
def review_record_cmd(alert_id: str, finding: str = typer.Option(..., "--finding", help="What the review found"),
                      as_json: bool = typer.Option(False, "--json")) -> None:
    """Record your finding on an alert whose review is assigned to you; once."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "operator", "admin", "auditor") as (conn, actor):
        row = reviews.record(conn, alert_id, finding, actor)
    emit(row, as_json, lambda r: console.print(f"alert {r['alert_id']}: review done by {r['reviewer']}",
                                               highlight=False))


@review.command("list")
def review_list_cmd(deployment: str = typer.Option(..., "--deployment"),
                    as_json: bool = typer.Option(False, "--json")) -> None:
    """A deployment's reviews: admins and auditors see all, a reviewer their own."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin", "auditor", "operator") as (conn, _viewer):
        rows = reviews.list_reviews(conn, deployment)

    def render(items: list[dict]) -> None:
        table = Table("alert", "class", "reviewer", "assigned", "done", "finding", title=f"reviews of {deployment}")
        for r in items:
            table.add_row(str(r["alert_id"]), r["alert_class"].replace("_", " "), r["reviewer"],
                          format_time(r["assigned_at"]), format_time(r["reviewed_at"], missing="open"),
                          r["finding"] or "")
        console.print(table)

    emit(rows, as_json, render)


def _legal_hold(alert_id: str, hold: bool, reason: str, as_json: bool) -> None:
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, actor):
        row = alerts.set_legal_hold(conn, alert_id, hold, actor, reason)
    emit(row, as_json, lambda r: console.print(
        f"alert {r['id']}: {'on legal hold (kept past retention)' if r['legal_hold'] else 'released from legal hold'}"))


REASON = typer.Option(..., "--reason", help="Why (a case or request reference), for the audit log")


@alert.command("hold")
def hold_cmd(alert_id: str, reason: str = REASON, as_json: bool = typer.Option(False, "--json")) -> None:
    """Keep an alert and its probe crop past the retention period (admin)."""
    _legal_hold(alert_id, True, reason, as_json)


@alert.command("release")
def release_cmd(alert_id: str, reason: str = REASON, as_json: bool = typer.Option(False, "--json")) -> None:
    """End a legal hold: the next retention sweep deletes the alert if it is past retention (admin)."""
    _legal_hold(alert_id, False, reason, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(apikey, name="apikey")
    alert.add_typer(review, name="review")
    app.add_typer(alert, name="alert")
