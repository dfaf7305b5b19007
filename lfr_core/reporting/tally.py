"""A deployment's alerts counted as forces publish them (issue 28 items 1 and 5): the Met's four counts (true alerts
confirmed and unconfirmed, false alerts confirmed and unconfirmed) and three outcomes (arrest, other, no action),
where two-person verification applies (issue 28 item 2) counting an alert only once both officers have assessed it,
replayed from the audit log (retention deletes alert rows, never their records), reconciled with the alerts still
stored, and the post-deployment reviews still open. Counts only: no subject, no officer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import psycopg

from lfr_core.alerts import queries as alerts_queries
from lfr_core.alerts.model import (
    DISPOSALS,
    LEGACY_ENGAGEMENTS,
    OUTCOMES,
    REVIEWED_CLASSES,
    AlertClass,
    AlertStatus,
    Disposal,
    Engagement,
    Outcome,
    alert_class,
)

# status, engagement (the result), disposal (its outcome), second_status (a second verifier's assessment)
Decision = dict[str, str | None]


def _pending() -> Decision:
    return {"status": AlertStatus.PENDING, "engagement": None, "disposal": None, "second_status": None}


def replay(logged: list[tuple[str, str, str | None]]) -> dict[str, Decision]:
    """Each alert's decision from its audit actions in chain order. An action written before migration 0025
    reads as that migration moved the rows (alerts/model.py LEGACY_ENGAGEMENTS; not_engaged was a status)."""
    alerts: dict[str, Decision] = {}
    for alert_id, logged_action, disposal in logged:
        action = logged_action.removeprefix("alert.")
        alert = alerts.setdefault(alert_id, _pending())
        if action in ("raise", "undone"):
            alerts[alert_id] = _pending()
        elif action == Outcome.NOT_ENGAGED:  # before 0025: a status of its own
            alert.update(status=AlertStatus.CONFIRMED, engagement=Engagement.NOT_ENGAGED, disposal=None)
        elif action.startswith("second."):  # issue 28 item 2: the second verifier's own assessment
            alert["second_status"] = action.removeprefix("second.")
        elif action.startswith("engagement."):
            result = action.removeprefix("engagement.")
            if result in LEGACY_ENGAGEMENTS:
                result, disposal = LEGACY_ENGAGEMENTS[result]
            alert.update(engagement=result, disposal=disposal)
        else:
            alert["status"] = action
    return alerts


@dataclass(frozen=True)
class Tally:
    """One deployment's alerts in the published grid's terms."""

    alerts: int = 0
    classes: dict[AlertClass, int] = field(default_factory=dict)
    outcomes: dict[Disposal, int] = field(default_factory=dict)
    awaiting_decision: int = 0  # no viability assessment yet
    awaiting_second: int = 0  # under two-person verification: assessed once, no second verifier yet
    awaiting_result: int = 0  # viable, no engagement result yet
    reviews_due: int = 0  # alerts a post-deployment review looks at
    reviews_done: int = 0
    reconciled: bool = True  # every alert still stored says what the log says of it
    stored: int = 0

    def count(self, cls: AlertClass) -> int:
        return self.classes.get(cls, 0)

    @property
    def true_alerts(self) -> int:
        return self.count(AlertClass.TRUE_CONFIRMED) + self.count(AlertClass.TRUE_UNCONFIRMED)

    @property
    def false_alerts(self) -> int:
        return self.count(AlertClass.FALSE_CONFIRMED) + self.count(AlertClass.FALSE_UNCONFIRMED)

    @property
    def provisional_reasons(self) -> list[str]:
        """Why the figures are not final yet, in words; none when they are."""
        reasons = []
        if self.awaiting_decision:
            reasons.append(f"{self.awaiting_decision} alert(s) await a decision")
        if self.awaiting_second:
            reasons.append(f"{self.awaiting_second} alert(s) await a second verifier")
        if self.awaiting_result:
            reasons.append(f"{self.awaiting_result} alert(s) await the engagement's result")
        if self.reviews_done < self.reviews_due:
            reasons.append(f"{self.reviews_due - self.reviews_done} of {self.reviews_due} post-deployment "
                           "review(s) are not done")
        return reasons


def tally(conn: psycopg.Connection, deployment_id: uuid.UUID | str) -> Tally:
    dep = str(deployment_id)
    logged = replay(alerts_queries.logged_decisions(conn, dep, OUTCOMES))
    stored = alerts_queries.decisions(conn, dep)
    classes: dict[str, AlertClass | None] = {i: alert_class(str(a["status"]), a["engagement"], a["second_status"])
                                             for i, a in logged.items()}
    # Under two-person verification an alert assessed once has no count yet: its first assessment is not a decision.
    two_person = alerts_queries.two_person(conn, dep)
    second_due = {i for i, a in logged.items() if two_person and a["status"] != AlertStatus.PENDING
                  and a["second_status"] is None}
    for i in second_due:
        classes[i] = None
    reviewed = {str(r["alert_id"]) for r in alerts_queries.reviews(conn, dep) if r["finding"] is not None}
    due = [i for i, c in classes.items() if c in REVIEWED_CLASSES]
    return Tally(
        alerts=len(logged), classes={c: sum(1 for k in classes.values() if k == c) for c in AlertClass},
        outcomes={d: sum(1 for a in logged.values() if a["disposal"] == d) for d in DISPOSALS},
        awaiting_decision=sum(1 for a in logged.values() if a["status"] == AlertStatus.PENDING),
        awaiting_second=len(second_due),
        awaiting_result=sum(1 for i, a in logged.items() if a["status"] == AlertStatus.CONFIRMED and classes[i] is None
                            and i not in second_due),
        reviews_due=len(due), reviews_done=sum(1 for i in due if i in reviewed),
        reconciled=all(logged.get(i) == a for i, a in stored.items()), stored=len(stored))
