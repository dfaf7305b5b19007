"""Reading rows the same way everywhere: a statement's rows as dicts, whatever the connection's row factory,
and one row by its UUID (a clear NotFound, optional row lock)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.abc import Params, QueryNoTemplate
from psycopg.rows import DictRow, dict_row

from lfr_core.errors import NotFound


def fetch_one(conn: psycopg.Connection[Any], query: QueryNoTemplate, params: Params | None = None) -> DictRow | None:
    """The statement's first row as a dict (the contexts' queries.py read through this and `fetch_all`)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchone()


def fetch_all(conn: psycopg.Connection[Any], query: QueryNoTemplate, params: Params | None = None) -> list[DictRow]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, params).fetchall()


TABLES = {"deployments": "deployment", "watchlist_versions": "watchlist version", "alerts": "alert"}


def get_by_id(conn: psycopg.Connection[Any], table: str, row_id: str | uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    what = TABLES[table]  # a fixed set: the table name is never user input
    try:
        key = uuid.UUID(str(row_id))
    except ValueError as e:
        raise NotFound(f"{what} id {row_id!r} is not a UUID") from e
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(f"SELECT * FROM {table} WHERE id = %s" + (" FOR UPDATE" if lock else ""), (key,)).fetchone()
    if row is None:
        raise NotFound(f"no {what} {row_id}")
    return row
