"""Acting as a person: a transaction run as their own database role (the role enum and the Actor record are in
model.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from lfr_core.errors import Forbidden, Refused
from lfr_core.identity import queries
from lfr_core.identity.model import Actor, Role


@contextmanager
def acting(conn: psycopg.Connection, actor: Actor) -> Iterator[None]:
    """One transaction run as the acting person's own database role, so the database decides what they may
    do (lfr_core/db/policy/): a service's connection may take on any person's role (it authenticated
    them), a person's own connection only theirs. The platform's own actions run as its login. What the
    database refuses comes out as `Refused` with the database's reason."""
    with conn.transaction():
        if actor.role != Role.SYSTEM:
            try:
                with conn.transaction():
                    queries.set_local_role(conn, actor.name)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidParameterValue) as e:
                raise Forbidden(f"{actor.name} cannot act on this connection: not a person of this platform, or "
                              f"not the one signed in") from e
        try:
            yield
        except psycopg.errors.InsufficientPrivilege as e:  # the database's refusal, with its reason
            raise Refused(e.diag.message_primary or str(e)) from e
        queries.reset_role(conn)
