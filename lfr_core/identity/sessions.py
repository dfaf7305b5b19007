"""A CLI user's sign-in: `lfr login` checks the person's password against PostgreSQL and keeps it, like
~/.pgpass, in a file only they can read; every later command connects with it as that person, so the
database applies their roles (lfr_core/db/policy/). No flag or variable names who is acting.

When the live API answers, `lfr login` also takes a sign-in token from it (POST /v1/auth/token) and keeps
it beside the password, so that `lfr logout` signs that token out on the server (POST /v1/auth/logout)
instead of only deleting the file."""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from pgvector.psycopg import register_vector
from psycopg.conninfo import make_conninfo
from psycopg.rows import dict_row

from lfr_core.config import Settings
from lfr_core.db.connection import DatabaseUnavailable, database_dsn
from lfr_core.errors import NotSignedIn, Service, Unavailable
from lfr_core.identity import people

API_TIMEOUT_S = 10.0


class ApiUnavailable(Unavailable):
    """The live API did not answer."""

    service = Service.LIVE_API


@dataclass(frozen=True)
class SignedOut:
    was_signed_in: bool
    token_revoked: bool  # False: no token was held (the API did not answer at sign-in)


def session_file(settings: Settings) -> Path:
    return settings.identity.session_file or settings.home / "session.json"


def person_dsn(settings: Settings, name: str, password: str) -> str:
    return make_conninfo(database_dsn(settings), user=name, password=password)


def connect_as(settings: Settings, name: str, password: str) -> psycopg.Connection[Any]:
    """A connection as this person, with dict rows and in autocommit as every connection of the platform (and typed
    as connect() is: lfr_core/db/connection.py); a wrong password or a disabled person is NotSignedIn."""
    try:
        conn = psycopg.connect(person_dsn(settings, name, password), row_factory=dict_row, autocommit=True)
    except psycopg.OperationalError as e:
        text = str(e)
        if "password authentication failed" in text or "not permitted to log in" in text:
            raise NotSignedIn(f"sign-in refused for {name}: wrong name or password, or the person is disabled") from e
        raise DatabaseUnavailable(f"PostgreSQL at {settings.db.host}:{settings.db.port} is unavailable "
                                  f"({text.strip().splitlines()[0][:200]}); run `lfr services up`") from e
    register_vector(conn)
    return conn


def api_url(settings: Settings) -> str:
    """The live API as this machine reaches it (as `lfr feed` does)."""
    return f"http://{settings.serve.host}:{settings.serve.port}"


def _private_channel(url: str) -> bool:
    """A password goes only over TLS or to this machine."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _api_token(api: str, name: str, password: str) -> str | None:
    """A token from the live API, or None when it does not answer or refuses (the CLI works without one)."""
    if not _private_channel(api):
        return None
    try:
        r = httpx.post(f"{api}/v1/auth/token", data={"username": name, "password": password}, timeout=API_TIMEOUT_S)
        body = r.json() if r.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return None
    token = body.get("access_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) else None


def login(settings: Settings, name: str, password: str, *, api: str | None = None) -> Path:
    """Check the password by signing in to PostgreSQL, then keep the sign-in (0600) for later commands; with
    `api`, also a token from the live API, if it answers, for `logout` to sign out there."""
    with connect_as(settings, name, password) as conn:
        if not people.may_sign_in(conn, name):  # the database administrator, a service login: not people
            raise NotSignedIn(f"sign-in refused for {name}: not a person of this platform (lfr person add)")
    path = session_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    expires = datetime.now(UTC) + timedelta(minutes=settings.identity.token_minutes)
    saved: dict[str, str] = {"name": name, "password": password, "expires": expires.isoformat()}
    token = _api_token(api, name, password) if api else None
    if token:
        saved.update(api=api or "", token=token)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(saved, f)
    os.replace(tmp, path)
    return path


def holds_token(settings: Settings) -> bool:
    try:
        return bool(json.loads(session_file(settings).read_text()).get("token"))
    except (OSError, ValueError, AttributeError):
        return False


def logout(settings: Settings) -> SignedOut:
    """Forget the sign-in here, then sign its token out at the live API: refused there until it expires.
    ApiUnavailable if the API does not answer (the file is gone all the same)."""
    path = session_file(settings)
    try:
        saved = json.loads(path.read_text())
    except FileNotFoundError:
        return SignedOut(was_signed_in=False, token_revoked=False)
    except (OSError, ValueError):
        saved = {}
    path.unlink(missing_ok=True)
    token, api = (saved.get("token"), saved.get("api")) if isinstance(saved, dict) else (None, None)
    if not isinstance(token, str) or not isinstance(api, str):
        return SignedOut(was_signed_in=True, token_revoked=False)
    try:
        r = httpx.post(f"{api}/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=API_TIMEOUT_S)
    except httpx.HTTPError as e:
        raise ApiUnavailable(f"signed out here, but the live API at {api} is unavailable ({type(e).__name__}): "
                             f"its sign-in token stays valid until it expires") from e
    if r.status_code >= 500:
        raise ApiUnavailable(f"signed out here, but the live API at {api} is unavailable (HTTP {r.status_code}): "
                             f"its sign-in token stays valid until it expires")
    # 401: the token no longer works anyway (expired, or already signed out).
    return SignedOut(was_signed_in=True, token_revoked=r.status_code in (200, 401))


def connect_signed_in(settings: Settings) -> psycopg.Connection[Any]:
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
