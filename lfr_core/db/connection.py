"""Connections to PostgreSQL: one place that turns settings into a DSN and registers pgvector."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row

from lfr_core.config import Settings, get_settings
from lfr_core.db.embedded import EmbeddedServer
from lfr_core.errors import Service, Unavailable


class DatabaseUnavailable(Unavailable):
    """PostgreSQL could not be reached; the message says how to start it."""

    service = Service.POSTGRESQL


def database_dsn(settings: Settings) -> str:
    db = settings.db
    if db.dsn is not None:
        return db.dsn.get_secret_value()
    if db.embedded:
        pg = EmbeddedServer.from_settings(settings)
        if not pg.password_file.exists():
            raise DatabaseUnavailable(
                f"PostgreSQL: the embedded server under {settings.home} is not initialised; run `lfr services up`"
            )
        return pg.dsn()
    password = quote(db.password.get_secret_value()) if db.password else ""
    return f"postgresql://{db.user}:{password}@{db.host}:{db.port}/{db.name}?connect_timeout={db.connect_timeout_s}"


def admin_dsn(settings: Settings) -> str | None:
    """A superuser's DSN for migrations and role setup (lfr_core/db/harden.py): the embedded server's own,
    or `db.admin_dsn`; never handed to the application's processes."""
    if settings.db.admin_dsn is not None:
        return settings.db.admin_dsn.get_secret_value()
    if settings.db.embedded:
        pg = EmbeddedServer.from_settings(settings)
        if pg.admin_password_file.exists():
            return pg.admin_dsn()
    return None


def connect(settings: Settings | None = None, *, vector: bool = True) -> psycopg.Connection[Any]:
    """A new connection with dict rows; pgvector types registered unless the extension is absent.

    In autocommit (issue 26 item 3): a read ends as it is answered, so none holds a transaction open, and each
    write operation is one `with conn.transaction()` (or `acting`, which is one) that commits as it closes.

    Typed Connection[Any], not Connection[DictRow]: most functions that take a connection still annotate it as
    a bare `psycopg.Connection`, which psycopg reads as Connection[TupleRow], and would refuse a DictRow one.
    A read that needs typed rows asks for them itself (`conn.cursor(row_factory=...)`, as the queries.py do)."""
    settings = settings or get_settings()
    try:
        conn = psycopg.connect(database_dsn(settings), row_factory=dict_row, autocommit=True)
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable(
            f"PostgreSQL at {settings.db.host}:{settings.db.port} is unavailable "
            f"({str(e).strip().splitlines()[0][:200]}); run `lfr services up`"
        ) from e
    if vector:
        register_vector(conn)
    return conn
