"""Signed Merkle checkpoints make a rewrite of the audit log provable even for a database superuser who
recomputes every hash: an edited, deleted (middle or tail) or swapped row is caught; checkpoints cannot be
deleted or have their retention shortened with the platform's keys; missing, stale and forged
checkpoints are reported. Each test checkpoints into a bucket of its own, so tampered states never reach
the session's reports bucket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from minio.commonconfig import GOVERNANCE
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.retention import Retention

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.audit.checkpoints import MerkleTree, leaf_hash
from lfr_core.storage.objectstore import parse_s3_uri
from tests.audit.test_audit import _as_owner, chain  # noqa: F401  (the fixture restores the rows)
from tests.conftest import own_reports_bucket


@pytest.fixture()
def own(services, store):
    """Settings whose reports bucket is a fresh object-locked bucket."""
    return own_reports_bucket(services)


def _rehash_from(conn, seq: int) -> None:
    """What a superuser does after tampering: recompute every row hash from `seq` on, so the chain verifies."""
    rows = conn.execute("SELECT * FROM audit_log WHERE seq >= %s ORDER BY seq", (seq,)).fetchall()
    prev = conn.execute("SELECT row_hash FROM audit_log WHERE seq < %s ORDER BY seq DESC LIMIT 1", (seq,)).fetchone()
    prev_hash = prev["row_hash"] if prev else audit.GENESIS_HASH
    for r in rows:
        details_sha = audit.sha256_hex(audit.canonical_json(r["details"]))
        row_hash = audit._row_hash(prev_hash, r["seq"], r["occurred_at"], r["actor"], r["role"], r["action"],
                                   r["object_type"], r["object_id"], details_sha)
        _as_owner(conn, "UPDATE audit_log SET details_sha256 = %s, prev_hash = %s, row_hash = %s WHERE seq = %s",
                  (details_sha, prev_hash, row_hash, r["seq"]))
        prev_hash = row_hash


def _problems(conn, store, settings, **kw) -> list[str]:
    return audit_checkpoints.verify_checkpoints(conn, store, settings, **kw)[1]


def test_merkle_root_follows_rfc6962():
    a, b, c = (leaf_hash(h * 64) for h in "abc")
    import hashlib

    node = lambda x, y: hashlib.sha256(b"\x01" + x + y).digest()  # noqa: E731
    tree = MerkleTree([a, b, c])
    assert tree.root(1) == a and tree.root(2) == node(a, b) and tree.root(3) == node(node(a, b), c)
    assert leaf_hash("ab" * 32) == hashlib.sha256(b"\x00" + bytes.fromhex("ab" * 32)).digest()


def test_an_untouched_log_verifies(chain, store, own):  # noqa: F811
    written = audit_checkpoints.checkpoint(chain, store, own)
    assert written["tree_size"] == audit.verify(chain).rows and written["version_id"]
    assert _problems(chain, store, own) == []


@pytest.mark.parametrize("tamper", ["edit", "delete_middle", "swap", "delete_tail"])
def test_a_superuser_rewrite_with_every_hash_recomputed_is_caught(chain, store, own, tamper):  # noqa: F811
    audit_checkpoints.checkpoint(chain, store, own)
    last = chain.execute("SELECT max(seq) AS s FROM audit_log").fetchone()["s"]
    if tamper == "edit":
        _as_owner(chain, "UPDATE audit_log SET details = %s WHERE seq = %s",
                  (psycopg.types.json.Jsonb({"n": 1000, "note": "rewritten"}), last - 1))
        _rehash_from(chain, last - 1)
    elif tamper == "delete_middle":
        _as_owner(chain, "DELETE FROM audit_log WHERE seq = %s", (last - 1,))
        _as_owner(chain, "UPDATE audit_log SET seq = seq - 1 WHERE seq = %s", (last,))
        # ...and a harmless row appended, so that the log keeps its length
        _as_owner(chain, "INSERT INTO audit_log SELECT %s, now(), 'lfr-system', 'system', 'noop', 'test', 'x', '{}',"
                  " '', '', '' ", (last,))
        _rehash_from(chain, last - 1)
    elif tamper == "swap":
        _as_owner(chain, "UPDATE audit_log SET seq = -1 WHERE seq = %s", (last,))
        _as_owner(chain, "UPDATE audit_log SET seq = %s WHERE seq = %s", (last, last - 1))
        _as_owner(chain, "UPDATE audit_log SET seq = %s WHERE seq = -1", (last - 1,))
        _rehash_from(chain, last - 1)
    else:
        _as_owner(chain, "DELETE FROM audit_log WHERE seq >= %s", (last - 1,))
    assert audit.verify(chain).ok  # the chain alone is fooled...
    problems = _problems(chain, store, own)  # ...the signed checkpoint is not
    expected = "deleted from the end" if tamper == "delete_tail" else "edited, deleted, inserted or reordered"
    assert len(problems) == 1 and expected in problems[0], problems


def test_checkpoints_cannot_be_deleted_or_unlocked_with_the_platform_keys(chain, store, own):  # noqa: F811
    written = audit_checkpoints.checkpoint(chain, store, own)
    bucket, key = parse_s3_uri(written["uri"])
    errors = list(store.client.remove_objects(bucket, [DeleteObject(key, written["version_id"])],
                                              bypass_governance_mode=True))
    assert errors, "a compliance-locked checkpoint was deleted"
    with pytest.raises(S3Error):
        store.client.set_object_retention(bucket, key, Retention(GOVERNANCE, datetime.now(UTC) + timedelta(days=1)),
                                          version_id=written["version_id"])
    assert store.get_bytes(bucket, key, version_id=written["version_id"])
    assert _problems(chain, store, own) == []


def test_a_forged_checkpoint_is_refused(chain, store, own, tmp_path):  # noqa: F811
    forger = own.model_copy(update={"audit": own.audit.model_copy(update={"signing_key_file": tmp_path / "mallory.pem"}),
                                    "db": own.db.model_copy(update={"embedded": True})})
    audit_checkpoints.checkpoint(chain, store, forger)  # signed with a key `verify` does not trust
    problems = _problems(chain, store, own)
    assert len(problems) == 1 and "signature invalid" in problems[0]


def test_missing_and_stale_checkpoints_are_reported(chain, store, own):  # noqa: F811
    later = datetime.now(UTC) + timedelta(hours=2)
    assert any("no audit checkpoint found" in p for p in _problems(chain, store, own, now=later))
    audit_checkpoints.checkpoint(chain, store, own)
    assert _problems(chain, store, own, now=later) == []  # nothing newer than the checkpoint
    with chain.transaction():
        audit.append(chain, actor="lfr-system", role="system", action="test.event", object_type="test", object_id="late",
                     details={"n": 99})
    assert _problems(chain, store, own) == []  # a row newer than the checkpoint, within the interval
    stale = _problems(chain, store, own, now=later)
    assert len(stale) == 1 and "checkpoints are not running" in stale[0]
