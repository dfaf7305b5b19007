"""A CLI user's sign-in: `lfr login` checks the person's password against PostgreSQL and keeps it, like
~/.pgpass, in a file only they can read; every later command connects with it as that person, so the
database applies their roles (lfr_core/db/policy.sql). No flag or variable names who is acting."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row
from pgvector.psycopg import register_vector

from lfr_core.config import Settings
from lfr_core.db.connection import DatabaseUnavailable, database_dsn
from lfr_core.errors import Refused


class NotSignedIn(Refused):
    """No valid sign-in: the message says how to sign in."""


def session_file(settings: Settings) -> Path:
    return settings.identity.session_file or settings.home / "session.json"


def person_dsn(settings: Settings, name: str, password: str) -> str:
    return make_conninfo(database_dsn(settings), user=name, password=password)


def connect_as(settings: Settings, name: str, password: str) -> psycopg.Connection:
    """A connection as this person; a wrong password or a disabled person is NotSignedIn."""
    try:
        conn = psycopg.connect(person_dsn(settings, name, password), row_factory=dict_row, autocommit=False)
    except psycopg.OperationalError as e:
        text = str(e)
        if "password authentication failed" in text or "not permitted to log in" in text:
            raise NotSignedIn(f"sign-in refused for {name}: wrong name or password, or the person is disabled") from e
        raise DatabaseUnavailable(f"PostgreSQL at {settings.db.host}:{settings.db.port} is unavailable "
                                  f"({text.strip().splitlines()[0][:200]}); run `lfr services up`") from e
    register_vector(conn)
    return conn


def login(settings: Settings, name: str, password: str) -> Path:
    """Check the password by signing in to PostgreSQL, then keep the sign-in (0600) for later commands."""
    connect_as(settings, name, password).close()
    path = session_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    expires = datetime.now(UTC) + timedelta(minutes=settings.identity.token_minutes)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"name": name, "password": password, "expires": expires.isoformat()}, f)
    os.replace(tmp, path)
    return path


def logout(settings: Settings) -> bool:
    path = session_file(settings)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def connect_signed_in(settings: Settings) -> psycopg.Connection:
    """A connection as the signed-in person."""
    path = session_file(settings)
    try:
        saved = json.loads(path.read_text())
        expires = datetime.fromisoformat(saved["expires"])
    except FileNotFoundError:
        raise NotSignedIn("not signed in: run `lfr login NAME`") from None
    except (ValueError, KeyError, TypeError):
        raise NotSignedIn(f"the sign-in in {path} is unreadable: run `lfr login NAME` again") from None
    if expires <= datetime.now(UTC):
        raise NotSignedIn(f"the sign-in of {saved['name']} expired at {expires:%Y-%m-%d %H:%M %Z}: run `lfr login` again")
    return connect_as(settings, saved["name"], saved["password"])
