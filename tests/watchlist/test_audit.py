"""The audit log refuses changes, and `verify` finds rows edited, inserted or deleted by the table's owner."""

from __future__ import annotations

import psycopg
import pytest

from lfr_core import audit
from lfr_core.db.connection import connect


@pytest.fixture()
def chain(services):
    """A fresh stretch of chain; after each tampering test the log is restored to the original rows."""
    with connect(services) as conn:
        for i in range(3):
            with conn.transaction():
                audit.append(conn, actor="t.tester", role="admin", action="test.event", object_type="test",
                             object_id=f"obj-{i}", details={"n": i, "note": "audit tamper test"})
        snapshot = conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
        assert audit.verify(conn).ok
        yield conn
        conn.rollback()
        with conn.transaction():
            conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            conn.execute("DELETE FROM audit_log")
            with conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO audit_log VALUES (%(seq)s, %(occurred_at)s, %(actor)s, %(role)s, %(action)s,"
                    " %(object_type)s, %(object_id)s, %(details)s, %(details_sha256)s, %(prev_hash)s, %(row_hash)s)",
                    [{**r, "details": psycopg.types.json.Jsonb(r["details"])} for r in snapshot],
                )
            conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
        assert audit.verify(conn).ok


def _as_owner(conn, sql: str, params=()) -> None:
    with conn.transaction():
        conn.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        conn.execute(sql, params)
        conn.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


def test_update_and_delete_are_refused_by_the_database(chain):
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"), chain.transaction():
            chain.execute(sql)


def test_verify_detects_an_edited_row(chain):
    last = chain.execute("SELECT max(seq) AS s FROM audit_log").fetchone()["s"]
    _as_owner(chain, "UPDATE audit_log SET details = jsonb_set(details, '{n}', '99') WHERE seq = %s", (last - 1,))
    result = audit.verify(chain)
    assert not result.ok and any(f"row {last - 1}: details were edited" in p for p in result.problems)


def test_verify_detects_a_deleted_row(chain):
    last = chain.execute("SELECT max(seq) AS s FROM audit_log").fetchone()["s"]
    _as_owner(chain, "DELETE FROM audit_log WHERE seq = %s", (last - 1,))
    result = audit.verify(chain)
    assert not result.ok and any("sequence gap" in p for p in result.problems)


def test_verify_detects_an_inserted_row(chain):
    _as_owner(chain, "UPDATE audit_log SET seq = seq + 1000000 WHERE seq = (SELECT max(seq) FROM audit_log)")
    last = chain.execute("SELECT max(seq) AS s FROM audit_log WHERE seq < 1000000").fetchone()["s"]
    head = chain.execute("SELECT row_hash FROM audit_log WHERE seq = %s", (last,)).fetchone()["row_hash"]
    _as_owner(chain, "INSERT INTO audit_log SELECT %s, now(), 'mallory', 'admin', 'forged', 'test', 'x', '{}',"
              " 'f', %s, 'forged-hash' ", (last + 1, head))
    _as_owner(chain, "UPDATE audit_log SET seq = %s WHERE seq > 1000000", (last + 2,))
    result = audit.verify(chain)
    assert not result.ok
    assert any(f"row {last + 1}" in p for p in result.problems) and any(f"row {last + 2}" in p for p in result.problems)
