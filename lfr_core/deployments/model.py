"""A deployment's statuses, the roles a person may be assigned to it in, and the holder of a camera key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class DeploymentStatus(StrEnum):
    """A status is its string: `DeploymentStatus.LIVE == "live"`, so rows that carry the plain name compare
    equal to it. The database's `state_transitions` says which changes between them exist and when."""

    PLANNED = "planned"
    LIVE = "live"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    LAPSED = "lapsed"  # the window passed without the deployment going live (no approval in time, or no activation)


STATUSES: tuple[DeploymentStatus, ...] = tuple(DeploymentStatus)


class StaffRole(StrEnum):
    """What a person assigned to a deployment does there: operators see and decide its alerts, authorisers
    answer its approval."""

    OPERATOR = "operator"
    AUTHORISER = "authoriser"


STAFF_ROLES: tuple[StaffRole, ...] = tuple(StaffRole)


@dataclass(frozen=True)
class ApiKey:
    """Who holds a camera key: the camera or feed it was issued to, and the one deployment whose frames it may
    post."""

    name: str
    deployment_id: uuid.UUID


@dataclass(frozen=True)
class CameraRange:
    """How far from a camera a face is still wide enough to recognise (lfr_core/deployments/cameras.py): a face
    `face_width_m` wide reaches `face_px` pixels up to `max_distance_m`."""

    width_px: int
    height_px: int
    hfov_deg: float
    face_width_m: float
    face_px: int
    face_px_source: str  # where `face_px` came from, in words
    pixels_per_metre_at_1m: float  # width_px / (2 tan(hfov / 2)); at distance d it is this / d
    max_distance_m: float


class AuthorisationState(StrEnum):
    """Where a deployment stands with external prior authorisation (Art 5(3)); the database computes it
    (`lfr_authorisation_state`, lfr_core/db/policy/30_deployments.sql)."""

    NOT_REQUIRED = "not_required"
    MISSING = "missing"
    URGENT = "urgent"  # started under urgency, the deadline for the decision not passed
    GRANTED = "granted"
    REFUSED = "refused"
    LAPSED = "lapsed"  # the urgency deadline passed without a decision

    @property
    def stopped(self) -> bool:
        """The use is stopped and its data, results and outputs discarded."""
        return self in (AuthorisationState.REFUSED, AuthorisationState.LAPSED)

    @property
    def may_go_live(self) -> bool:
        return self in (AuthorisationState.NOT_REQUIRED, AuthorisationState.URGENT, AuthorisationState.GRANTED)


# Art 5(3): the prior authorisation comes from a judicial authority or an independent administrative authority
# whose decision is binding (deployment_authorisations.authority_kind, migration 0034).
AUTHORITY_KINDS: tuple[str, ...] = ("judicial", "administrative")
