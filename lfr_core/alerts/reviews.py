"""Post-deployment review (issue 28 item 5): after the window, each true alert left unconfirmed and each false alert
is reviewed by an assigned reviewer, who records a finding. The database checks every rule (policy/50_alerts.sql
lfr_guard_alert_reviews: after the window, only those classes, an admin assigns, a reviewer who took no part in
the decision, only that reviewer records, once) and its trigger writes the audit rows (alert.review.assigned,
alert.review.done); the checks here only say in words what the officer met."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from lfr_core.alerts import queries
from lfr_core.alerts.model import REVIEWED_CLASSES, alert_class
from lfr_core.audit import log as audit
from lfr_core.db.rows import get_by_id
from lfr_core.errors import InvalidInput, NotFound, Refused
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting


def assign(conn: psycopg.Connection, alert_id: uuid.UUID | str, reviewer: str, actor: Actor) -> dict[str, Any]:
    """An admin assigns an alert's review to a reviewer."""
    actor.require("admin", to="assign a post-deployment review")
    with acting(conn, actor):
        alert = get_by_id(conn, "alerts", alert_id, lock=True)
        cls = alert_class(alert["status"], alert["engagement"], alert.get("second_status"))
        if cls not in REVIEWED_CLASSES:
            raise Refused(f"alert {alert_id} is {cls or 'not decided yet'}: only a true alert left unconfirmed and "
                          "a false alert are reviewed")
        if queries.review(conn, alert["id"]) is not None:
            raise Refused(f"alert {alert_id} already has a reviewer")
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={})
        return queries.assign_review(conn, alert["id"], alert["deployment_id"], cls, reviewer, actor.name)


def record(conn: psycopg.Connection, alert_id: uuid.UUID | str, finding: str, actor: Actor) -> dict[str, Any]:
    """The assigned reviewer's finding, once, in their own name."""
    actor.require("operator", "admin", "auditor", to="record a review's finding")
    if not finding.strip():
        raise InvalidInput("a review needs a finding")
    with acting(conn, actor):
        found = queries.review(conn, str(alert_id))
        if found is None:
            raise NotFound(f"no review of alert {alert_id} assigned to {actor.name}")
        if found["finding"] is not None:
            raise Refused(f"the review of alert {alert_id} is done (by {found['reviewer']} at {found['reviewed_at']})")
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={})
        row = queries.record_finding(conn, found["alert_id"], finding.strip())
    if row is None:
        raise NotFound(f"no review of alert {alert_id} assigned to {actor.name}")
    return row


def list_reviews(conn: psycopg.Connection, deployment_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """A deployment's reviews the acting person may see (admins and auditors all, a reviewer their own)."""
    try:
        key = uuid.UUID(str(deployment_id))
    except ValueError as e:
        raise NotFound(f"deployment id {deployment_id!r} is not a UUID") from e
    return [dict(r) for r in queries.reviews(conn, key)]


def open_for(conn: psycopg.Connection, actor: Actor) -> list[dict[str, Any]]:
    """The reviews assigned to the acting person that still await their finding (the console's review screen)."""
    actor.require("operator", "admin", "auditor", to="review alerts")
    with acting(conn, actor):
        return [dict(r) for r in queries.open_reviews_of(conn, actor.name)]


def awaiting_assignment(conn: psycopg.Connection, deployment_id: uuid.UUID | str) -> list[str]:
    """The ids of a deployment's alerts that need a review and have no reviewer yet (as the acting person sees them)."""
    return [str(r["id"]) for r in queries.decided_without_review(conn, deployment_id)
            if alert_class(r["status"], r["engagement"]) in REVIEWED_CLASSES]
