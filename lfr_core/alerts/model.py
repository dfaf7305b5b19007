"""An alert's statuses, the outcomes an officer decides, and what came of an engagement after a confirmed
alert. Each is a StrEnum: a member is its string (`AlertStatus.PENDING == "pending"`), so rows that carry the
plain name compare equal to it. Also the faces a camera saw, counted by whether they could have been
recognised (FaceBands): numbers only."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class FaceBands:
    """Faces seen, in four exclusive bands of the face box's shorter side against the reliable size (issue 32
    item 4): the live gate refused them, narrower than the reliable size or not (then for a detection too
    uncertain); the gate admitted them below the reliable size (compared, but more often missed than not at the
    smallest sizes); or at the reliable size or wider (they could have been recognised). Counts only."""

    refused_small: int = 0
    refused_other: int = 0
    below_reliable: int = 0
    reliable: int = 0

    def __add__(self, other: FaceBands) -> FaceBands:
        return FaceBands(self.refused_small + other.refused_small, self.refused_other + other.refused_other,
                         self.below_reliable + other.below_reliable, self.reliable + other.reliable)

    @property
    def total(self) -> int:
        return self.refused_small + self.refused_other + self.below_reliable + self.reliable

    @property
    def refused(self) -> int:
        """Refused by the live gate, whatever their size: never compared with the list."""
        return self.refused_small + self.refused_other

    @property
    def small(self) -> int:
        """Narrower than the reliable size, whatever the gate said: what a camera too far or too wide shows."""
        return self.refused_small + self.below_reliable


NO_FACES = FaceBands()
