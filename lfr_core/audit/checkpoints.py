"""Signed Merkle checkpoints of the audit log, so that a rewrite is provable even by a database superuser.

The hash chain (lfr_core.audit.log) catches an edit made with the application's own SQL, but whoever can
rewrite the table can also recompute every hash after the edit. A checkpoint fixes the log's content up
to a size: the root of an RFC 6962 Merkle tree over the rows' hashes (leaf = SHA-256(0x00 || row hash),
node = SHA-256(0x01 || left || right), as in Certificate Transparency), signed with an Ed25519 key kept
off the database host, and stored in the reports bucket under COMPLIANCE-mode object lock, which no key
of any user can delete or shorten. `verify` recomputes each checkpoint's root from the table: an edited,
deleted, inserted or reordered row anywhere before a checkpoint changes the root; rows cut from the tail
leave the table shorter than a checkpoint; a missing, stale or forged checkpoint is reported as such.
What stays possible is a rewrite of rows newer than the latest checkpoint (at most one interval).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lfr_core.audit import queries
from lfr_core.config import Settings
from lfr_core.errors import InvalidInput
from lfr_core.storage.keyfiles import ed25519_private_key
from lfr_core.storage.policy import CHECKPOINTS

PREFIX = CHECKPOINTS  # the key prefix, owned by the storage policy that grants writing there
ORIGIN = "lfr-audit-log"


# -- RFC 6962 Merkle tree heads ----------------------------------------------------------------------------

def leaf_hash(row_hash: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(row_hash)).digest()


class MerkleTree:
    """Tree heads of every prefix of one list of leaves; aligned subtrees are computed once, so checking
    k checkpoints over n rows costs O(n + k log n)."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self._subtree = lru_cache(maxsize=None)(self._hash)

    def _hash(self, start: int, size: int) -> bytes:
        if size == 1:
            return self.leaves[start]
        split = 1 << (size - 1).bit_length() - 1  # the largest power of two below size
        return hashlib.sha256(b"\x01" + self._subtree(start, split) + self._subtree(start + split, size - split)).digest()

    def root(self, size: int) -> bytes:
        if size == 0:
            return hashlib.sha256(b"").digest()
        return self._subtree(0, size)

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 section 2.1.4.1: the nodes that show the tree of `old_size` leaves is a prefix of the tree
        of `new_size` leaves (empty when either is 0 or they are equal)."""
        if not 0 <= old_size <= new_size <= len(self.leaves):
            raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves in a tree of {len(self.leaves)}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, n: int, complete: bool) -> list[bytes]:
        # SUBPROOF(m, D[start:start+n], b); `complete` is b: the old tree is this whole subtree, known to the
        # verifier already, so it is left out.
        if m == n:
            return [] if complete else [self._subtree(start, n)]
        k = 1 << (n - 1).bit_length() - 1  # the largest power of two below n
        if m <= k:
            return [*self._subproof(m, start, k, complete), self._subtree(start + k, n - k)]
        return [*self._subproof(m - k, start + k, n - k, False), self._subtree(start, k)]


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: whether `proof` shows that the tree with `old_root` over `old_size` leaves is a
    prefix of the tree with `new_root` over `new_size` leaves."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = [old_root, *proof] if old_size & (old_size - 1) == 0 else list(proof)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


# -- the signing key, held outside the database ------------------------------------------------------------

def _key_files(settings: Settings) -> tuple[Path, Path]:
    private = settings.audit.signing_key_file or settings.home / "keys" / "audit-signing.pem"
    public = settings.audit.verify_key_file or private.with_suffix(".pub.pem")
    return private, public


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key; the embedded setup creates one (0600) on first use."""
    private, public = _key_files(settings)
    return ed25519_private_key(private, public, may_create=settings.db.embedded,
                               missing=f"no audit signing key at {private} (LFR_AUDIT__SIGNING_KEY_FILE); mount it "
                                       f"from the force's key store")


def verify_key(settings: Settings) -> Ed25519PublicKey | None:
    _, public = _key_files(settings)
    if not public.exists():
        return None
    key = serialization.load_pem_public_key(public.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"{public} is not an Ed25519 public key (LFR_AUDIT__VERIFY_KEY_FILE)")
    return key


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _signed_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


# -- writing and checking ----------------------------------------------------------------------------------

def checkpoint(conn: psycopg.Connection, store: Any, settings: Settings) -> dict[str, Any] | None:
    """Sign the tree head of the whole log and store it under compliance lock; None while the log is empty."""
    hashes = queries.row_hashes(conn)
    if not hashes:
        return None
    key = signing_key(settings)
    now = datetime.now(UTC)
    body = {"origin": ORIGIN, "tree_size": len(hashes), "root": MerkleTree([leaf_hash(h) for h in hashes]).root(len(hashes)).hex(),
            "head_hash": hashes[-1], "signed_at": now.isoformat(), "key_id": key_id(key.public_key())}
    record = {**body, "signature": base64.b64encode(key.sign(_signed_bytes(body))).decode()}
    name = f"{PREFIX}{len(hashes):012d}-{now.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    stored = store.put_bytes(settings.s3.bucket_reports, name, json.dumps(record, sort_keys=True).encode(),
                             "application/json", retain_until=now + timedelta(days=settings.audit.checkpoint_retention_days))
    return {**body, "uri": stored.uri, "version_id": stored.version_id}


@dataclass
class StoredCheckpoint:
    """One checkpoint object as read from the store; `signature_ok` is None where no verify key is configured."""
    key: str
    version_id: str | None
    body: dict[str, Any]
    signature: str
    signature_ok: bool | None

    @property
    def tree_size(self) -> int:
        return int(self.body["tree_size"])

    @property
    def root(self) -> str:
        return str(self.body["root"])

    @property
    def signed_at(self) -> str:
        return str(self.body["signed_at"])


@dataclass
class CheckpointCheck:
    """What `check` found: the problems, a summary for the CLI, and what it read (for lfr_core.audit.witness)."""
    problems: list[str]
    summary: dict[str, Any]
    checkpoints: list[StoredCheckpoint]
    tree: MerkleTree
    rows: int

    def matches(self, checkpoint: StoredCheckpoint) -> bool:
        """Signed with the trusted key, and the log's first rows still have its root."""
        return bool(checkpoint.signature_ok) and checkpoint.tree_size <= self.rows \
            and self.tree.root(checkpoint.tree_size).hex() == checkpoint.root


def stored_checkpoints(store: Any, settings: Settings, public: Ed25519PublicKey | None) -> list[StoredCheckpoint]:
    """Every version of every checkpoint object in the reports bucket, in key order, signatures checked."""
    found = []
    for key, version in sorted(store.list_keys(settings.s3.bucket_reports, PREFIX, versions=True),
                               key=lambda kv: (kv[0], kv[1] or "")):
        record = json.loads(store.get_bytes(settings.s3.bucket_reports, key, version_id=version))
        signature = str(record.pop("signature", ""))
        ok: bool | None = None
        if public is not None:
            try:
                public.verify(base64.b64decode(signature), _signed_bytes(record))
                ok = True
            except (InvalidSignature, ValueError):
                ok = False
        found.append(StoredCheckpoint(key, version, record, signature, ok))
    return found


def check(conn: psycopg.Connection[Any], store: Any, settings: Settings, now: datetime | None = None) -> CheckpointCheck:
    """Check the table against every stored checkpoint."""
    now = now or datetime.now(UTC)
    interval = timedelta(minutes=settings.audit.checkpoint_interval_minutes)
    problems: list[str] = []
    public = verify_key(settings)
    if public is None:
        problems.append("no verify key configured (LFR_AUDIT__VERIFY_KEY_FILE): checkpoints cannot be trusted")
    hashes = queries.row_hashes(conn)
    first = queries.first_occurred_at(conn)
    tree = MerkleTree([leaf_hash(h) for h in hashes])
    checkpoints = stored_checkpoints(store, settings, public)
    versions: dict[str, int] = {}
    for stored in checkpoints:
        versions[stored.key] = versions.get(stored.key, 0) + 1
    for key, count in versions.items():
        if count > 1:
            problems.append(f"checkpoint {key} has {count} versions: it was overwritten")
    latest: StoredCheckpoint | None = None
    for stored in checkpoints:
        if not stored.signature_ok:
            if stored.signature_ok is False:
                problems.append(f"checkpoint {stored.key}: signature invalid (forged or altered)")
            continue
        size = stored.tree_size
        if size > len(hashes):
            problems.append(f"checkpoint {stored.key} covers {size} rows but the log has {len(hashes)}: rows were "
                            f"deleted from the end")
        elif tree.root(size).hex() != stored.root:
            problems.append(f"rows 1-{size} differ from checkpoint {stored.key} signed {stored.signed_at}: a row was "
                            f"edited, deleted, inserted or reordered (and the chain rehashed)")
        if latest is None or (size, stored.signed_at) > (latest.tree_size, latest.signed_at):
            latest = stored
    if latest is None:
        if first is not None and now - first > 2 * interval:
            problems.append("no audit checkpoint found although the log is older than two checkpoint intervals: the "
                            "checkpoint store was emptied or checkpoints are not running")
    else:
        age = now - datetime.fromisoformat(latest.signed_at)
        if age > 2 * interval and len(hashes) > latest.tree_size:
            problems.append(f"the latest checkpoint is {age.total_seconds() / 60:.0f} min old (interval "
                            f"{interval.total_seconds() / 60:.0f} min) and {len(hashes) - latest.tree_size} newer "
                            f"rows are unprotected: checkpoints are not running")
    summary = {"checkpoints": len(checkpoints),
               "latest_tree_size": latest.tree_size if latest else 0,
               "latest_signed_at": latest.signed_at if latest else None}
    return CheckpointCheck(problems, summary, checkpoints, tree, len(hashes))


def verify_checkpoints(conn: psycopg.Connection, store: Any, settings: Settings,
                       now: datetime | None = None) -> tuple[dict[str, Any], list[str]]:
    """Problems found by checking the table against every stored checkpoint, and a summary."""
    found = check(conn, store, settings, now)
    return found.summary, found.problems
