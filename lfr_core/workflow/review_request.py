"""The Required Action after a deployment's window that asks an admin to assign the post-deployment reviews
(issue 28 item 5): who may answer, what the request says, and the answer applied as the admin who gave it. The
database checks each assignment again (policy/50_alerts.sql: after the window, a reviewer who took no part)."""

from __future__ import annotations

from typing import Any

from lfr_core.alerts import reviews
from lfr_core.config import Settings
from lfr_core.db.connection import connect
from lfr_core.errors import InvalidInput, LfrError
from lfr_core.identity import people
from lfr_core.identity.model import SYSTEM
from lfr_core.identity.roles import acting

ASSIGN, LATER = "Assign", "Assign later"
REVIEWER = "reviewer"


def request(settings: Settings, deployment_id: str) -> dict[str, Any]:
    """The alerts awaiting a reviewer and the admins who may assign them; no alert, nothing to ask."""
    with connect(settings) as conn, acting(conn, SYSTEM):
        waiting = reviews.awaiting_assignment(conn, deployment_id)
        admins = people.holding(conn, "admin")
    body = "\n".join([
        f"{len(waiting)} alert(s) of deployment `{deployment_id}` need a post-deployment review: each true alert left "
        "unconfirmed and each false alert. Name one reviewer (an operator, admin or auditor who took no part in "
        "their decisions) and choose *Assign*; the deployment record stays provisional until every review is done.",
        "", "Alerts: " + ", ".join(f"`{a}`" for a in waiting),
        "", "*Assign later* leaves them to `lfr alert review assign ALERT --reviewer NAME`."])
    return {"alerts": waiting, "respondents": admins, "subject": "Assign the post-deployment reviews", "body": body}


def answer(settings: Settings, deployment_id: str, person: str, choice: str, reviewer: str | None) -> dict[str, Any]:
    """Assign every alert still awaiting a reviewer to `reviewer`, as the admin `person`; an alert the database
    refuses (the reviewer decided it, say) is named with its reason and left for the CLI."""
    if choice == LATER:
        return {"assigned": [], "refused": {}, "by": person}
    if choice != ASSIGN or not (reviewer or "").strip():
        raise InvalidInput(f"choose {ASSIGN} with a reviewer's name, or {LATER}")
    assigned: list[str] = []
    refused: dict[str, str] = {}
    with connect(settings) as conn:
        actor = people.person(conn, person, "admin")
        with acting(conn, SYSTEM):
            waiting = reviews.awaiting_assignment(conn, deployment_id)
        for alert_id in waiting:
            try:
                reviews.assign(conn, alert_id, str(reviewer).strip(), actor)
                assigned.append(alert_id)
            except LfrError as e:
                refused[alert_id] = str(e)
    return {"assigned": assigned, "refused": refused, "by": person, "reviewer": str(reviewer).strip()}
