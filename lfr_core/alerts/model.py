"""An alert's decision in the published grids' terms (issue 28 item 1): the viability assessment (status), the
engagement result and its outcome (disposal), and the Met's four counts they make. Each is a StrEnum: a member is
its string (`AlertStatus.PENDING == "pending"`), so rows that carry the plain name compare equal to it. Also the
faces a camera saw, counted by whether they could have been recognised (FaceBands): numbers only."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertStatus(StrEnum):
    """The viability assessment (issue 28 item 1): the operator compares the probe with the watchlist face."""

    PENDING = "pending"  # raised, waiting for an officer's decision
    CONFIRMED = "confirmed"  # the match is viable
    DECLINED = "declined"  # the match is not viable: a false alert, unconfirmed


class Outcome(StrEnum):
    """What an officer decides about a pending alert. CONFIRMED and DECLINED are the viability assessment (the
    alert's status becomes it); NOT_ENGAGED is a shorthand kept for the console's and the API's callers: a viable
    match that officers decided not to engage (status confirmed, result not_engaged, one transaction)."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    NOT_ENGAGED = "not_engaged"


class Engagement(StrEnum):
    """The engagement result after a viable match: the Met's confirmed (engaged) or unconfirmed (not engaged)."""

    SUBJECT = "subject"  # engaged: the person is the subject (true alert, confirmed)
    SOMEONE_ELSE = "someone_else"  # engaged: the person is someone else (false alert, confirmed)
    EVADED = "evaded"  # the subject evaded officers (true alert, unconfirmed)
    NOT_ENGAGED = "not_engaged"  # officers decided not to engage (true alert, unconfirmed)


class Disposal(StrEnum):
    """The outcome of an engagement, recorded with the result exactly when the person was engaged."""

    ARREST = "arrest"
    OTHER = "other"
    NO_ACTION = "no_action"


class AlertClass(StrEnum):
    """The Met's four counts; an alert awaiting its assessment or its result has none yet."""

    TRUE_CONFIRMED = "true_confirmed"
    TRUE_UNCONFIRMED = "true_unconfirmed"
    FALSE_CONFIRMED = "false_confirmed"
    FALSE_UNCONFIRMED = "false_unconfirmed"


ENGAGED: tuple[Engagement, ...] = (Engagement.SUBJECT, Engagement.SOMEONE_ELSE)
# The classes a post-deployment review looks at (issue 28 item 5): every alert but a true one confirmed.
REVIEWED_CLASSES: tuple[AlertClass, ...] = (
    AlertClass.TRUE_UNCONFIRMED, AlertClass.FALSE_CONFIRMED, AlertClass.FALSE_UNCONFIRMED)


def alert_class(status: str, engagement: str | None, second_status: str | None = None) -> AlertClass | None:
    """Which of the four counts a decision falls in (the database's public.lfr_alert_class says the same). Under
    two-person verification a match either officer judged not viable is a false alert, unconfirmed."""
    if status == AlertStatus.DECLINED or second_status == AlertStatus.DECLINED:
        return AlertClass.FALSE_UNCONFIRMED
    if status != AlertStatus.CONFIRMED or engagement is None:
        return None
    return {Engagement.SUBJECT: AlertClass.TRUE_CONFIRMED, Engagement.SOMEONE_ELSE: AlertClass.FALSE_CONFIRMED,
            Engagement.EVADED: AlertClass.TRUE_UNCONFIRMED,
            Engagement.NOT_ENGAGED: AlertClass.TRUE_UNCONFIRMED}[Engagement(engagement)]


class Verification(StrEnum):
    """Where an alert stands under two-person verification (issue 28 item 2, AI Act Art 14(5)): verified only when
    two different assigned officers each judged the match viable, separately."""

    NOT_REQUIRED = "not required"  # the deployment's pack does not ask for it
    AWAITING_FIRST = "awaiting first verifier"
    AWAITING_SECOND = "awaiting second verifier"
    VERIFIED = "verified"  # both judged the match viable
    NOT_VERIFIED = "not verified"  # one of them judged it not viable


def verification(status: str, second_status: str | None, two_person: bool) -> Verification:
    if not two_person:
        return Verification.NOT_REQUIRED
    if status == AlertStatus.PENDING:
        return Verification.AWAITING_FIRST
    if second_status is None:
        return Verification.AWAITING_SECOND
    if status == AlertStatus.CONFIRMED and second_status == AlertStatus.CONFIRMED:
        return Verification.VERIFIED
    return Verification.NOT_VERIFIED


# Today's engagement outcomes before migration 0025, as (result, outcome): the move of the stored rows
# (public.lfr_legacy_decision) and the replay of the audit log's old actions read the same table, and the API
# still takes these names from callers written before it.
LEGACY_ENGAGEMENTS: dict[str, tuple[Engagement, Disposal]] = {
    "arrested": (Engagement.SUBJECT, Disposal.ARREST),
    "spoken_to": (Engagement.SUBJECT, Disposal.OTHER),
    "no_further_action": (Engagement.SUBJECT, Disposal.NO_ACTION),
    "misidentified": (Engagement.SOMEONE_ELSE, Disposal.NO_ACTION),
}


ALERT_STATUSES: tuple[AlertStatus, ...] = tuple(AlertStatus)
OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)
ENGAGEMENTS: tuple[Engagement, ...] = tuple(Engagement)
DISPOSALS: tuple[Disposal, ...] = tuple(Disposal)


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
