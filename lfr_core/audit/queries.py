"""The audit context's SQL (issue 26 item 1): the only module that reads or writes audit_log. Each function asks
one thing and returns rows, records or scalars; an append runs inside the caller's transaction (`acting`, or
`with conn.transaction()`), whose advisory lock `audit.append` takes to keep the chain in order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row, scalar_row
from psycopg.types.json import Jsonb


def append_row(conn: psycopg.Connection[Any], *, occurred_at: str, actor: str, role: str, action: str,
               object_type: str, object_id: str, details: dict[str, Any], details_sha256: str) -> str:
    """The database numbers and chains the row (`audit.append`, lfr_core/db/harden.py): the application's login
    cannot write the table. Returns the row's hash."""
    with conn.cursor(row_factory=scalar_row) as cur:
        row_hash = cur.execute(
            "SELECT audit.append(%s, %s, %s, %s, %s, %s, %s, %s)",
            (occurred_at, actor, role, action, object_type, object_id, Jsonb(details), details_sha256),
        ).fetchone()
    return str(row_hash)


def describe_next_change(conn: psycopg.Connection[Any], said: str) -> None:
    """What the next guarded change of this transaction is for (JSON), read by its trigger (`lfr.change`)."""
    conn.execute("SELECT set_config('lfr.change', %s, true)", (said,))


def rows_in_order(conn: psycopg.Connection[Any]) -> Iterator[dict[str, Any]]:
    """Every row, in chain order."""
    with conn.cursor(row_factory=dict_row) as cur:
        yield from cur.execute("SELECT * FROM audit.audit_log ORDER BY seq")


def rows_of(conn: psycopg.Connection[Any], *, object_type: str | None = None,
            object_id: str | None = None) -> list[dict[str, Any]]:
    """Every row, or those of one object type and/or object, in chain order."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT * FROM audit.audit_log WHERE (%(type)s::text IS NULL OR object_type = %(type)s)
               AND (%(id)s::text IS NULL OR object_id = %(id)s) ORDER BY seq""",
            {"type": object_type, "id": object_id}).fetchall()


def row_hashes(conn: psycopg.Connection[Any]) -> list[str]:
    """Each row's hash, in chain order: the leaves of the checkpoints' Merkle tree."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute("SELECT row_hash FROM audit.audit_log ORDER BY seq").fetchall()


def first_occurred_at(conn: psycopg.Connection[Any]) -> datetime | None:
    """When the log's first row was written; None while it is empty."""
    with conn.cursor(row_factory=scalar_row) as cur:
        first: datetime | None = cur.execute("SELECT occurred_at FROM audit.audit_log ORDER BY seq LIMIT 1").fetchone()
    return first


def _fields(fields: Sequence[str]) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, fields))


def rows_with_actions(conn: psycopg.Connection[Any], actions: Sequence[str],
                      fields: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of these actions with `seq`, `fields` and `position`, the row's 1-based place in chain order
    (its leaf in the checkpoints' tree)."""
    query = sql.SQL("""SELECT * FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS position, {fields}
                                      FROM audit.audit_log) r WHERE action = ANY(%s) ORDER BY seq""").format(
        fields=_fields(fields))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (list(actions),)).fetchall()


def rows_at(conn: psycopg.Connection[Any], seqs: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
    """The rows numbered `seqs` (those still there), with `seq` and `fields`."""
    query = sql.SQL("SELECT seq, {fields} FROM audit.audit_log WHERE seq = ANY(%s)").format(fields=_fields(fields))
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query, (list(seqs),)).fetchall()


def logged_since(conn: psycopg.Connection[Any], *, object_type: str, object_id: str, action: str,
                 since: datetime) -> bool:
    """Whether the action was logged on the object at or after `since`."""
    with conn.cursor(row_factory=scalar_row) as cur:
        found = cur.execute(
            """SELECT EXISTS (SELECT 1 FROM audit.audit_log WHERE object_type = %s AND object_id = %s AND action = %s
                              AND occurred_at >= %s)""", (object_type, object_id, action, since)).fetchone()
    return bool(found)


def latest_detail(conn: psycopg.Connection[Any], *, object_type: str, object_id: str, action: str,
                  key: str) -> str | None:
    """One detail (as text) of the latest row of this action on the object; None without such a row or key."""
    with conn.cursor(row_factory=scalar_row) as cur:
        value: str | None = cur.execute(
            """SELECT details->>%s FROM audit.audit_log WHERE object_type = %s AND object_id = %s AND action = %s
               ORDER BY seq DESC LIMIT 1""", (key, object_type, object_id, action)).fetchone()
    return value


def rows_of_deployment(conn: psycopg.Connection[Any], deployment_id: str) -> list[dict[str, Any]]:
    """The rows about one deployment, in chain order: its own, and every row whose details name it (its versions'
    builds and changes of state, its alerts' raises and decisions)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT seq, occurred_at, actor, role, action, object_type, object_id, details, row_hash
               FROM audit.audit_log
               WHERE (object_type = 'deployment' AND object_id = %(d)s) OR details->>'deployment_id' = %(d)s
               ORDER BY seq""", {"d": deployment_id}).fetchall()
