"""The platform's roles and the record of who acts: every state change is attributed to a named person acting
in a role."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from lfr_core.errors import Forbidden, InvalidInput


class Role(StrEnum):
    """A role is its string: `Role.PLANNER == "planner"`, so rows, tokens and settings that carry the plain
    name compare equal to it."""

    PLANNER = "planner"
    AUTHORISER = "authoriser"
    OPERATOR = "operator"
    ADMIN = "admin"
    AUDITOR = "auditor"
    SYSTEM = "system"  # the platform's own actions, under its service login


ROLES: tuple[Role, ...] = tuple(Role)


@dataclass(frozen=True)
class Actor:
    name: str
    role: str

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput("an actor needs a name")
        if self.role not in ROLES:
            raise InvalidInput(f"unknown role {self.role!r}; choose one of: {', '.join(ROLES)}")

    def require(self, *roles: str, to: str) -> None:
        if self.role not in roles:
            raise Forbidden(f"{self.name} ({self.role}) may not {to}; that needs the role {' or '.join(roles)}")


SYSTEM = Actor("lfr-system", Role.SYSTEM)


@dataclass(frozen=True)
class Login:
    """A person as PostgreSQL knows them: a login role in lfr_person, which may be disabled."""

    name: str
    can_sign_in: bool
