"""Who did something: every state change is attributed to a named person acting in a role."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from lfr_core.errors import InvalidInput, Refused

ROLES = ("planner", "authoriser", "operator", "admin", "auditor", "system")


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
            raise Refused(f"{self.name} ({self.role}) may not {to}; that needs the role {' or '.join(roles)}")


SYSTEM = Actor("lfr-system", "system")


@contextmanager
def acting(conn: psycopg.Connection, actor: Actor) -> Iterator[None]:
    """One transaction run as the acting person's own database role, so the database decides what they may
    do (lfr_core/db/policy.sql): a service's connection may take on any person's role (it authenticated
    them), a person's own connection only theirs. The platform's own actions run as its login. What the
    database refuses comes out as `Refused` with the database's reason."""
    with conn.transaction():
        if actor.role != "system":
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(actor.name)))
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidParameterValue) as e:
                raise Refused(f"{actor.name} cannot act on this connection: not a person of this platform, or "
                              f"not the one signed in") from e
        try:
            yield
        except psycopg.errors.InsufficientPrivilege as e:  # the database's refusal, with its reason
            raise Refused(e.diag.message_primary or str(e)) from e
        conn.execute("RESET ROLE")
