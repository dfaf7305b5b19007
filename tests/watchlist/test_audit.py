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


def test_anchor_catches_a_consistent_rewrite_of_the_chain(chain, store, services):
    bucket = services.s3.bucket_reports
    anchored = audit.anchor(chain, store, bucket)
    assert audit.check_anchors(chain, store, bucket) == []
    # A table owner rewrites the last row and recomputes its hashes: the chain alone still verifies...
    row = chain.execute("SELECT * FROM audit_log WHERE seq = %s", (anchored["seq"],)).fetchone()
    forged = {**row["details"], "n": 1000}
    details_sha = audit.sha256_hex(audit.canonical_json(forged))
    row_hash = audit._row_hash(row["prev_hash"], row["seq"], row["occurred_at"], row["actor"], row["role"],
                               row["action"], row["object_type"], row["object_id"], details_sha)
    _as_owner(chain, "UPDATE audit_log SET details = %s, details_sha256 = %s, row_hash = %s WHERE seq = %s",
              (psycopg.types.json.Jsonb(forged), details_sha, row_hash, row["seq"]))
    assert audit.verify(chain).ok
    # ...but not against the anchor kept in the object-locked bucket.
    problems = audit.check_anchors(chain, store, bucket)
    assert len(problems) == 1 and f"row {anchored['seq']}" in problems[0]
