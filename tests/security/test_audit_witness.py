"""`lfr audit verify` remembers what it verified (lfr_core/audit/witness.py), as a Certificate Transparency
monitor does (RFC 9162), so that a database superuser who rewrites a decision row, recomputes the chain and
deletes the checkpoints is caught, with the row and the checkpoints named.

How a deleted checkpoint is simulated: the store refuses to delete a compliance-locked checkpoint (and
should), and the platform's key may neither make buckets nor write beside the session's checkpoints
anything but checkpoints. So each test writes its checkpoints, for real, to the reports bucket under a key
prefix of its own (ScopedStore: the session's verify never sees them, so a log the `chain` fixture restores
after tampering leaves no checkpoint behind that no longer matches it), and a deletion is that view with
those objects left out: verify then sees exactly the store an attacker who could delete them would leave,
whatever the S3 server's delete rules are. The log itself is rewritten for real, as the database
superuser, with every hash recomputed by lfr_core.audit.log's own functions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.audit import witness as audit_witness
from lfr_core.audit.checkpoints import MerkleTree, verify_consistency
from lfr_core.config import get_settings
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStoreError
from tests.audit.test_audit import chain, superuser  # noqa: F401  (the fixture restores the rows)
from tests.conftest import AUTHORISER, OPERATOR, PLANNER, signed_in_env

LATER = timedelta(minutes=10)  # past audit.decision_checkpoint_minutes (5)


# -- RFC 9162 consistency proofs against a brute-force tree ---------------------------------------------------

def _naive_root(leaves: list[bytes]) -> bytes:
    """RFC 6962's MTH written out directly, sharing nothing with MerkleTree."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _naive_root(leaves[:k]) + _naive_root(leaves[k:])).digest()


LEAVES = [hashlib.sha256(b"\x00" + bytes([i])).digest() for i in range(21)]


def test_consistency_proofs_hold_exactly_when_the_old_tree_is_a_prefix_for_every_size_up_to_20():
    for n in range(len(LEAVES)):
        tree = MerkleTree(LEAVES[:n])
        assert tree.root(n) == _naive_root(LEAVES[:n])
        for m in range(n + 1):
            old, new = _naive_root(LEAVES[:m]), _naive_root(LEAVES[:n])
            proof = tree.consistency_proof(m, n)
            assert verify_consistency(m, n, old, new, proof), (m, n)
            assert len(proof) <= 2 * max(n - 1, 1).bit_length()
            # a proof made from a log with any one leaf changed holds only if that leaf lies past the old tree
            for i in range(n):
                changed = [*LEAVES[:n]]
                changed[i] = hashlib.sha256(b"rewritten").digest()
                forged = MerkleTree(changed)
                assert verify_consistency(m, n, old, _naive_root(changed), forged.consistency_proof(m, n)) == (i >= m), \
                    (m, n, i)
            if 0 < m < n:
                for j in range(len(proof)):  # any altered node, a wrong size or a wrong root fails
                    bent = [*proof]
                    bent[j] = bytes([bent[j][0] ^ 1]) + bent[j][1:]
                    assert not verify_consistency(m, n, old, new, bent), (m, n, j)
                assert not verify_consistency(m, n, new, new, proof)
                assert not verify_consistency(m, n, old, old, proof)
                assert not verify_consistency(m, n, old, new, proof[:-1])
                assert not verify_consistency(m, n, old, new, [])
                if m + 1 < n:
                    assert not verify_consistency(m + 1, n, _naive_root(LEAVES[:m + 1]), new, proof)
    with pytest.raises(ValueError):
        MerkleTree(LEAVES[:3]).consistency_proof(2, 4)


# -- the witness against the real services --------------------------------------------------------------------

class ScopedStore:
    """The object store as verify and checkpoint see it, with this test's own key prefix in every bucket, and
    the objects in `hidden` gone (deleted, as far as any reader can tell)."""

    def __init__(self, store, scope: str, hidden: frozenset[str] = frozenset()) -> None:
        self.store, self.scope, self.hidden = store, scope, hidden

    def _real(self, key: str) -> str:
        return f"{self.scope}/{key}"

    def put_bytes(self, bucket, key, data, content_type="application/octet-stream", *, retain_until=None):
        # Without retention: the platform's key may lock objects only under the session's checkpoint prefix.
        stored = self.store.put_bytes(bucket, self._real(key), data, content_type)
        return dataclasses.replace(stored, key=key)

    def get_bytes(self, bucket, key, version_id=None):
        if key in self.hidden:
            raise ObjectStoreError(f"cannot read s3://{bucket}/{key}: NoSuchKey")
        return self.store.get_bytes(bucket, self._real(key), version_id=version_id)

    def list_keys(self, bucket, prefix="", *, versions=False):
        found = self.store.list_keys(bucket, self._real(prefix), versions=versions)
        return [(key[len(self.scope) + 1:], v) for key, v in found if key[len(self.scope) + 1:] not in self.hidden]

    def without(self, keys: set[str] | None = None) -> ScopedStore:
        """This store after the checkpoints in `keys` (all of them when None) were deleted."""
        if keys is None:
            keys = {k for k, _ in self.list_keys(get_settings().s3.bucket_reports, audit_checkpoints.PREFIX)}
        return ScopedStore(self.store, self.scope, self.hidden | keys)


@pytest.fixture(autouse=True)
def every_problem_named(monkeypatch):
    """The session's log holds other tests' decisions, never checkpointed in this test's store: name every
    uncovered row, so that the one a test looks for is among them whatever ran before."""
    monkeypatch.setattr(audit_witness, "MAX_NAMED", 10**6)


@pytest.fixture()
def view(store) -> ScopedStore:
    return ScopedStore(store, f"reports/test-audit-witness/{uuid.uuid4().hex}")


@pytest.fixture()
def own(services, tmp_path):
    """Settings with this test's own auditor: a witness file and a mirror in places of their own."""
    return services.model_copy(update={"audit": services.audit.model_copy(update={
        "witness_file": tmp_path / "auditor" / "witness.json",
        "witness_mirror": str(tmp_path / "mirror" / "witness.json"),
        "decision_checkpoint_minutes": 5})})


def _decide(conn, actor: Actor, action: str, **details) -> dict:
    """A decision's audit row, appended as the deciding person does it (audit.append in their own name);
    returns the row."""
    object_type = {"watchlist": "watchlist_version", "deployment": "deployment"}.get(action.split(".")[0], "test")
    conn.rollback()  # so that acting's transaction is the outermost one, and commits
    with acting(conn, actor):
        audit.append(conn, actor=actor.name, role=actor.role, action=action, object_type=object_type,
                     object_id=str(uuid.uuid4()), details=details)
    row = conn.execute("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    conn.rollback()
    return row


def _checkpoint(conn, store, settings) -> str:
    """What each decision command does at once; returns the checkpoint's object key."""
    return audit_checkpoints.checkpoint(conn, store, settings)["uri"].split("/", 3)[3]


def _verify(conn, store, settings, *, now=None) -> audit_witness.LogVerification:
    return audit_witness.verify_log(conn, store, settings, now=now)


def _rewrite(conn, seq: int, *, delete: bool = False, **fields) -> None:
    """The attack, as the database superuser: triggers off, the row at `seq` edited (or deleted, the rows
    after it renumbered), and every hash from there on recomputed as audit.append computes it, so that the
    chain verifies."""
    conn.rollback()
    with superuser(get_settings()) as su, su.transaction():
        su.execute("SET session_replication_role = replica")  # the append-only triggers do not fire
        if delete:
            su.execute("DELETE FROM audit_log WHERE seq = %s", (seq,))
            su.execute("UPDATE audit_log SET seq = seq - 1 WHERE seq > %s", (seq,))
        for name, value in fields.items():
            value = psycopg.types.json.Jsonb(value) if name == "details" else value
            su.execute(f"UPDATE audit_log SET {name} = %s WHERE seq = %s", (value, seq))
        prev = su.execute("SELECT row_hash FROM audit_log WHERE seq < %s ORDER BY seq DESC LIMIT 1", (seq,)).fetchone()
        prev_hash = prev["row_hash"] if prev else audit.GENESIS_HASH
        for r in su.execute("SELECT * FROM audit_log WHERE seq >= %s ORDER BY seq", (seq,)).fetchall():
            details_sha = audit.sha256_hex(audit.canonical_json(r["details"]))
            row_hash = audit._row_hash(prev_hash, r["seq"], r["occurred_at"], r["actor"], r["role"], r["action"],
                                       r["object_type"], r["object_id"], details_sha)
            su.execute("UPDATE audit_log SET details_sha256 = %s, prev_hash = %s, row_hash = %s WHERE seq = %s",
                       (details_sha, prev_hash, row_hash, r["seq"]))
            prev_hash = row_hash
    assert audit.verify(conn).ok, "the superuser's rewrite should fool the hash chain alone"
    conn.rollback()


def _has(problems: list[str], *parts: str) -> bool:
    return any(all(part in p for part in parts) for p in problems)


def test_the_first_run_trusts_on_first_use_says_so_and_keeps_the_witness_in_both_places(chain, view, own):  # noqa: F811
    key = _checkpoint(chain, view, own)
    first = _verify(chain, view, own)
    assert first.ok, first.problems
    assert first.witness["first_use"] and any("trust on first use" in n for n in first.notes)
    primary, mirror = own.audit.witness_file, Path(own.audit.witness_mirror)
    assert primary.read_bytes() == mirror.read_bytes()
    for path in (primary, mirror):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    state = json.loads(primary.read_text())
    assert state["tree_size"] == first.rows and state["checkpoint"]["key"] == key and key in state["checkpoints_seen"]
    again = _verify(chain, view, own)
    assert again.ok and not again.witness["first_use"], again.problems


def test_the_approval_rewritten_to_the_builder_with_every_checkpoint_deleted_is_caught(chain, view, own):  # noqa: F811
    """Issue 25 item 4: the approver replaced by the builder, the chain recomputed, the checkpoints deleted."""
    approval = _decide(chain, AUTHORISER, "watchlist.approved", built_by=PLANNER.name, criteria_sha256="c" * 64)
    keys = [_checkpoint(chain, view, own), _checkpoint(chain, view, own)]
    assert _verify(chain, view, own).ok  # the auditor's run after the approval

    _rewrite(chain, approval["seq"], actor=PLANNER.name)
    emptied = view.without()
    problems = _verify(chain, emptied, own).problems
    seq = approval["seq"]
    assert _has(problems, f"row {seq} (watchlist.approved", "actor 'ann.authoriser' is now 'pat.planner'"), problems
    assert _has(problems, "holds none: the checkpoints were deleted"), problems
    for key in keys:
        assert _has(problems, f"checkpoint {key} is gone"), problems
    assert _has(problems, "no longer have the root the witness verified", keys[-1]), problems
    # the same store seen by an auditor who never ran before: the uncovered approval is named
    fresh = own.model_copy(update={"audit": own.audit.model_copy(update={
        "witness_file": own.audit.witness_file.with_name("other.json"), "witness_mirror": None})})
    first_run = _verify(chain, emptied, fresh, now=datetime.now(UTC) + LATER).problems
    assert _has(first_run, f"row {seq} (watchlist.approved", "no valid checkpoint covers it"), first_run


DECISIONS = [(AUTHORISER, "watchlist.approved"), (OPERATOR, "watchlist.active"), (SYSTEM, "watchlist.expired"),
             (SYSTEM, "watchlist.purging"), (SYSTEM, "watchlist.purged"), (PLANNER, "deployment.cancelled")]


@pytest.mark.parametrize("after", ["checkpoints_kept", "checkpoints_deleted", "resigned_with_the_stolen_key"])
@pytest.mark.parametrize(("actor", "action"), DECISIONS, ids=[a for _, a in DECISIONS])
def test_every_decision_rewritten_is_named_whatever_became_of_the_checkpoints(chain, view, own, actor, action,  # noqa: F811
                                                                              after):
    decision = _decide(chain, actor, action, reason="the recorded reason")
    _decide(chain, SYSTEM, "test.event", n=1)  # a later row, so the rewrite rehashes others too
    key = _checkpoint(chain, view, own)
    assert _verify(chain, view, own).ok

    _rewrite(chain, decision["seq"], details={"reason": "a different reason"})
    store = view if after == "checkpoints_kept" else view.without()
    if after == "resigned_with_the_stolen_key":  # the log grows on, and the thief signs its new head
        _decide(chain, SYSTEM, "test.event", n=2)
        resigned = _checkpoint(chain, store, own)
    problems = _verify(chain, store, own, now=datetime.now(UTC) + LATER).problems
    seq = decision["seq"]
    assert _has(problems, f"row {seq} ({action}", "rewritten after the witness saw it", "details_sha256"), problems
    assert _has(problems, "rows 1-", "no longer have the root the witness verified", key), problems
    if after == "checkpoints_kept":
        assert _has(problems, "differ from checkpoint", key), problems
    else:
        assert _has(problems, f"checkpoint {key} is gone"), problems
    if after == "resigned_with_the_stolen_key":
        assert _has(problems, f"checkpoint {resigned}", f"not consistent with checkpoint {key}",
                    "consistency proof"), problems
    if after == "checkpoints_deleted":
        assert _has(problems, f"row {seq} ({action}", "no valid checkpoint covers it"), problems


def test_a_deleted_decision_row_is_named(chain, view, own):  # noqa: F811
    purged = _decide(chain, SYSTEM, "watchlist.purged", reason="window ended")
    later = _decide(chain, SYSTEM, "watchlist.expired", reason="window ended")
    _checkpoint(chain, view, own)
    assert _verify(chain, view, own).ok
    _rewrite(chain, purged["seq"], delete=True)
    problems = _verify(chain, view.without(), own).problems
    assert _has(problems, f"row {purged['seq']} (watchlist.purged", "rewritten", "object_id"), problems
    assert _has(problems, f"row {later['seq']} (watchlist.expired", "that the witness saw is gone"), problems


@pytest.mark.parametrize("gone", ["oldest", "newest", "all"])
def test_each_deleted_checkpoint_is_named_although_the_log_is_untouched(chain, view, own, gone):  # noqa: F811
    keys = []
    for i in range(3):
        _decide(chain, AUTHORISER, "watchlist.approved", n=i)
        keys.append(_checkpoint(chain, view, own))
    assert _verify(chain, view, own).ok
    deleted = {"oldest": {keys[0]}, "newest": {keys[-1]}, "all": set(keys)}[gone]
    problems = _verify(chain, view.without(deleted), own).problems
    for key in keys:
        assert _has(problems, f"checkpoint {key} is gone") == (key in deleted), (key, problems)
    assert _has(problems, "holds none") == (gone == "all"), problems
    if gone == "newest":  # what is left is older than what the witness verified
        assert _has(problems, f"the newest checkpoint {keys[1]}", "fewer than"), problems


def test_a_failing_run_does_not_move_the_witness_on(chain, view, own):  # noqa: F811
    _decide(chain, AUTHORISER, "watchlist.approved")
    key = _checkpoint(chain, view, own)
    assert _verify(chain, view, own).ok
    for _ in range(2):  # still failing on the second run: the witness kept what it knew
        assert _has(_verify(chain, view.without(), own).problems, f"checkpoint {key} is gone")
    assert json.loads(own.audit.witness_file.read_text())["checkpoint"]["key"] == key


def test_the_witness_copies_must_agree(chain, view, own):  # noqa: F811
    primary, mirror = own.audit.witness_file, Path(own.audit.witness_mirror)
    _decide(chain, AUTHORISER, "watchlist.approved")
    _checkpoint(chain, view, own)
    assert _verify(chain, view, own).ok
    old = primary.read_bytes()
    _decide(chain, OPERATOR, "watchlist.active")
    newer = _checkpoint(chain, view, own)
    assert _verify(chain, view, own).ok

    mirror.write_bytes(old)  # the mirror rolled back to what the auditor knew before
    problems = _verify(chain, view, own).problems
    assert _has(problems, "the witness copies disagree", str(mirror)), problems
    mirror.unlink()
    problems = _verify(chain, view, own).problems
    assert _has(problems, f"witness {mirror} is missing", str(primary)), problems
    primary.write_bytes(b"{not json")
    problems = _verify(chain, view, own).problems
    assert _has(problems, f"witness {primary} is unreadable"), problems
    # with every copy gone the auditor is back to trusting on first use, and is told so
    primary.unlink()
    fresh = _verify(chain, view, own)
    assert fresh.ok and fresh.witness["first_use"], fresh.problems
    assert json.loads(primary.read_text())["checkpoint"]["key"] == newer


def test_a_mirror_in_a_bucket_is_read_and_written(chain, view, own):  # noqa: F811
    where = f"s3://{own.s3.bucket_reports}/auditor/witness.json"
    settings = own.model_copy(update={"audit": own.audit.model_copy(update={"witness_mirror": where})})
    _decide(chain, AUTHORISER, "watchlist.approved")
    key = _checkpoint(chain, view, settings)
    assert _verify(chain, view, settings).ok
    assert view.get_bytes(own.s3.bucket_reports, "auditor/witness.json") == settings.audit.witness_file.read_bytes()
    settings.audit.witness_file.unlink()
    problems = _verify(chain, view.without(), settings).problems
    assert _has(problems, "is missing but", where), problems
    assert _has(problems, f"checkpoint {key} is gone"), problems


def test_the_cli_names_the_rewritten_approval_and_the_deleted_checkpoint(chain, view, own, monkeypatch):  # noqa: F811
    from typer.testing import CliRunner

    from lfr_ops.cli import audit_cmd
    from lfr_ops.cli.main import app

    approval = _decide(chain, AUTHORISER, "watchlist.approved", built_by=PLANNER.name)
    key = _checkpoint(chain, view, own)
    env = {**signed_in_env(own, "aud.auditor"), "LFR_AUDIT__WITNESS_FILE": str(own.audit.witness_file),
           "LFR_AUDIT__WITNESS_MIRROR": own.audit.witness_mirror, "LFR_AUDIT__DECISION_CHECKPOINT_MINUTES": "5"}

    def verify(store: ScopedStore) -> tuple[int, dict]:
        monkeypatch.setattr(audit_cmd, "ObjectStore", lambda settings: store)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["audit", "verify", "--json"], env=env)
        finally:
            get_settings.cache_clear()
        return result.exit_code, json.loads(result.output.strip().splitlines()[-1])

    code, report = verify(view)
    assert code == 0 and report["ok"] and report["witness"]["first_use"] and report["witness"]["recorded"], report
    assert any("trust on first use" in n for n in report["notes"])

    _rewrite(chain, approval["seq"], actor=PLANNER.name)
    code, report = verify(view.without())
    assert code == 1 and not report["ok"] and not report["witness"]["recorded"], report
    assert _has(report["problems"], f"row {approval['seq']} (watchlist.approved", "is now 'pat.planner'"), report
    assert _has(report["problems"], f"checkpoint {key} is gone"), report
