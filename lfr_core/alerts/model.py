"""An alert's statuses, the outcomes an officer decides, and what came of an engagement after a confirmed
alert. Each is a StrEnum: a member is its string (`AlertStatus.PENDING == "pending"`), so rows that carry the
plain name compare equal to it."""

from __future__ import annotations

from enum import StrEnum


class AlertStatus(StrEnum):
    PENDING = "pending"  # raised, waiting for an officer's decision
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NOT_ENGAGED = "not_engaged"


class Outcome(StrEnum):
    """What an officer decides about a pending alert; the alert's status becomes the outcome."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NOT_ENGAGED = "not_engaged"


class Engagement(StrEnum):
    """What came of an engagement after a confirmed alert (the published results count each)."""

    SPOKEN_TO = "spoken_to"
    ARRESTED = "arrested"
    NO_FURTHER_ACTION = "no_further_action"
    MISIDENTIFIED = "misidentified"


ALERT_STATUSES: tuple[AlertStatus, ...] = tuple(AlertStatus)
OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)
ENGAGEMENTS: tuple[Engagement, ...] = tuple(Engagement)
