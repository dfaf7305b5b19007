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
