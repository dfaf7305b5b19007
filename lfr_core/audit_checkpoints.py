"""Signed Merkle checkpoints of the audit log, so that a rewrite is provable even by a database superuser.

The hash chain (lfr_core.audit) catches an edit made with the application's own SQL, but whoever can
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
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lfr_core.config import Settings
from lfr_core.keyfiles import ed25519_private_key

PREFIX = "audit-checkpoints/"
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
    return serialization.load_pem_public_key(public.read_bytes())


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _signed_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


# -- writing and checking ----------------------------------------------------------------------------------

def _row_hashes(conn: psycopg.Connection) -> list[str]:
    rows = [r["row_hash"] for r in conn.execute("SELECT row_hash FROM audit_log ORDER BY seq")]
    conn.rollback()
    return rows


def checkpoint(conn: psycopg.Connection, store: Any, settings: Settings) -> dict[str, Any] | None:
    """Sign the tree head of the whole log and store it under compliance lock; None while the log is empty."""
    hashes = _row_hashes(conn)
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


def verify_checkpoints(conn: psycopg.Connection, store: Any, settings: Settings,
                       now: datetime | None = None) -> tuple[dict[str, Any], list[str]]:
    """Problems found by checking the table against every stored checkpoint, and a summary."""
    now = now or datetime.now(UTC)
    interval = timedelta(minutes=settings.audit.checkpoint_interval_minutes)
    problems: list[str] = []
    public = verify_key(settings)
    if public is None:
        problems.append("no verify key configured (LFR_AUDIT__VERIFY_KEY_FILE): checkpoints cannot be trusted")
    hashes = _row_hashes(conn)
    first = conn.execute("SELECT occurred_at FROM audit_log ORDER BY seq LIMIT 1").fetchone()
    conn.rollback()
    tree = MerkleTree([leaf_hash(h) for h in hashes])
    versions: dict[str, list[str | None]] = {}
    for key, version in store.list_keys(settings.s3.bucket_reports, PREFIX, versions=True):
        versions.setdefault(key, []).append(version)
    latest: dict[str, Any] | None = None
    for key in sorted(versions):
        if len(versions[key]) > 1:
            problems.append(f"checkpoint {key} has {len(versions[key])} versions: it was overwritten")
        for version in versions[key]:
            record = json.loads(store.get_bytes(settings.s3.bucket_reports, key, version_id=version))
            signature = base64.b64decode(record.pop("signature", ""))
            if public is None:
                continue
            try:
                public.verify(signature, _signed_bytes(record))
            except InvalidSignature:
                problems.append(f"checkpoint {key}: signature invalid (forged or altered)")
                continue
            size = int(record["tree_size"])
            if size > len(hashes):
                problems.append(f"checkpoint {key} covers {size} rows but the log has {len(hashes)}: rows were deleted "
                                f"from the end")
            elif tree.root(size).hex() != record["root"]:
                problems.append(f"rows 1-{size} differ from checkpoint {key} signed {record['signed_at']}: a row was "
                                f"edited, deleted, inserted or reordered (and the chain rehashed)")
            if latest is None or (size, record["signed_at"]) > (latest["tree_size"], latest["signed_at"]):
                latest = record
    if latest is None:
        if first is not None and now - first["occurred_at"] > 2 * interval:
            problems.append("no audit checkpoint found although the log is older than two checkpoint intervals: the "
                            "checkpoint store was emptied or checkpoints are not running")
    else:
        age = now - datetime.fromisoformat(latest["signed_at"])
        if age > 2 * interval and len(hashes) > latest["tree_size"]:
            problems.append(f"the latest checkpoint is {age.total_seconds() / 60:.0f} min old (interval "
                            f"{interval.total_seconds() / 60:.0f} min) and {len(hashes) - latest['tree_size']} newer "
                            f"rows are unprotected: checkpoints are not running")
    summary = {"checkpoints": sum(len(v) for v in versions.values()),
               "latest_tree_size": latest["tree_size"] if latest else 0,
               "latest_signed_at": latest["signed_at"] if latest else None}
    return summary, problems
