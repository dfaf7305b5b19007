"""The audit log refuses changes, and `verify` finds rows edited, inserted or deleted by a database superuser
(the application's own login cannot even try: test_audit_roles.py)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from lfr_core.audit import log as audit
from lfr_core.config import get_settings
from lfr_core.db.connection import admin_dsn, connect


@pytest.fixture()
def chain(services):
    """A fresh stretch of chain; after each tampering test the log is restored to the original rows."""
    with connect(services) as conn:
        for i in range(3):
            with conn.transaction():
                audit.append(conn, actor="lfr-system", role="system", action="test.event", object_type="test",
                             object_id=f"obj-{i}", details={"n": i, "note": "audit tamper test"})
        snapshot = conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
        assert audit.verify(conn).ok
        yield conn
        conn.rollback()
        with superuser(services) as su, su.transaction():
            su.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
            su.execute("DELETE FROM audit_log")
            with su.cursor() as cur:
                cur.executemany(
                    "INSERT INTO audit_log VALUES (%(seq)s, %(occurred_at)s, %(actor)s, %(role)s, %(action)s,"
                    " %(object_type)s, %(object_id)s, %(details)s, %(details_sha256)s, %(prev_hash)s, %(row_hash)s)",
                    [{**r, "details": psycopg.types.json.Jsonb(r["details"])} for r in snapshot],
                )
            su.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")
        assert audit.verify(conn).ok


def superuser(settings) -> psycopg.Connection:
    return psycopg.connect(admin_dsn(settings), row_factory=dict_row)


def _as_owner(conn, sql: str, params=()) -> None:
    """What a database superuser does to the log, triggers off; `conn` (the application's) sees the result."""
    conn.rollback()
    with superuser(get_settings()) as su, su.transaction():
        su.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")
        su.execute(sql, params)
        su.execute("ALTER TABLE audit_log ENABLE TRIGGER USER")


def test_update_and_delete_are_refused_even_to_a_superuser_who_leaves_the_triggers_on(chain, services):
    chain.rollback()  # its open transaction would hold off TRUNCATE's lock
    with superuser(services) as su:
        for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"), su.transaction():
                su.execute(sql)


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
