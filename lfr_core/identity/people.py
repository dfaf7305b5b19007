"""People: the only ones who act on the platform.

A person is a PostgreSQL login role, a member of the group roles of what they do (`lfr_planner`,
`lfr_authoriser`, `lfr_operator`, `lfr_admin`, `lfr_auditor`). So their roles are looked up where the
data lives, and the rules in lfr_core/db/policy/ hold for them whatever client they use: the CLI (which
connects with their own credentials), the services (which run each request as the signed-in person with
`SET LOCAL ROLE`) or a direct SQL connection. Only an admin adds or disables people, through two
SECURITY DEFINER functions that also write the audit row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from typing import Any

import psycopg

from lfr_core.db.harden import PEOPLE_ROLES
from lfr_core.errors import Forbidden, InvalidInput, NotFound, Refused
from lfr_core.identity import queries
from lfr_core.identity.model import Actor

SCRAM_ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)


def scram_verifier(password: str, *, iterations: int = SCRAM_ITERATIONS) -> str:
    """PostgreSQL's stored form of a SCRAM-SHA-256 password (RFC 5802/7677): the server never sees the password."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = base64.b64encode
    return f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}${b64(stored_key).decode()}:{b64(server_key).decode()}"


def new_password() -> str:
    return secrets.token_urlsafe(18)


def _refused(error: psycopg.Error) -> Exception:
    message = (error.diag.message_primary or str(error)).strip()
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return Refused(message)
    if isinstance(error, psycopg.errors.UndefinedObject):
        return NotFound(message)
    return InvalidInput(message)


def add(conn: psycopg.Connection, name: str, roles: list[str], password: str) -> None:
    """A new person with these roles; needs an admin (or the database administrator, for the first admin)."""
    if len(password) < 12:
        raise InvalidInput("a password needs at least 12 characters")
    try:
        with conn.transaction():
            queries.add_person(conn, name, list(roles), scram_verifier(password))
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.InvalidParameterValue,
            psycopg.errors.DuplicateObject) as e:
        raise _refused(e) from e


def disable(conn: psycopg.Connection, name: str) -> None:
    try:
        with conn.transaction():
            queries.disable_person(conn, name)
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedObject) as e:
        raise _refused(e) from e


def roles_of(conn: psycopg.Connection, name: str) -> list[str]:
    """The platform roles a person holds, in the order of PEOPLE_ROLES (none for an unknown name).

    Only members of lfr_person are people. A superuser is none, whatever groups it is in: PostgreSQL
    reports a superuser as a member of every role, so without this it would hold them all."""
    held = queries.roles_held(conn, name)
    return [r for r in PEOPLE_ROLES if r in held]


def may_sign_in(conn: psycopg.Connection, name: str) -> bool:
    """Is this a person who may sign in now: a login role in lfr_person, not disabled nor expired, and neither
    a superuser nor exempt from row-level security (which decides whose alerts an operator sees)?"""
    return queries.may_sign_in(conn, name)


def signed_in_roles(conn: psycopg.Connection, name: str) -> list[str]:
    """The roles of a person who may still sign in; a disabled person has none, so the tokens they already
    hold stop working too (the services may still take on their database role: this is the check)."""
    return roles_of(conn, name) if may_sign_in(conn, name) else []


def holding(conn: psycopg.Connection, role: str) -> list[str]:
    """The people who may sign in now and hold this role, by name (e.g. the authorisers a deployment may name)."""
    if role not in PEOPLE_ROLES:
        raise InvalidInput(f"unknown role {role!r}; choose one of: {', '.join(PEOPLE_ROLES)}")
    return queries.may_sign_in_holding(conn, role)


def list_people(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return [{"name": login.name, "can_sign_in": login.can_sign_in, "roles": roles_of(conn, login.name)}
            for login in queries.logins(conn)]


def current(conn: psycopg.Connection, *preferred: str) -> Actor:
    """The person this connection acts for, in the first of `preferred` roles they hold (else their first
    role, so that the command refuses them with a reason)."""
    return person(conn, queries.acting_name(conn), *preferred)


def person(conn: psycopg.Connection, name: str, *preferred: str) -> Actor:
    """An authenticated person (a login, a token's subject) as an Actor with their roles from the database."""
    held = signed_in_roles(conn, name)
    if not held:
        raise Forbidden(f"{name} is not a person of this platform (no role, or disabled); ask an admin")
    return Actor(name, next((r for r in preferred if r in held), held[0]))
