"""The append-only, hash-chained audit log.

Every state change of a deployment, watchlist version or alert appends a row in the same transaction
as the change itself. Each row's hash covers the previous row's hash, its own fields and the sha256 of
its details, so `verify` finds an edited, inserted or deleted row. The details carry what EU AI Act
Art 12(3) asks a biometric identification system to log: the period of use, the reference database
(watchlist version), the input data that led to a match and the identity of the people who verified it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.audit import queries

# One chain for the whole database: `audit.append` serialises appends with this transaction-scoped lock.
CHAIN_LOCK_KEY = 0xA0D17
GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def sha256_hex(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _row_hash(prev_hash: str, seq: int, occurred_at: datetime, actor: str, role: str, action: str,
              object_type: str, object_id: str, details_sha256: str) -> str:
    fields = [prev_hash, str(seq), occurred_at.astimezone(UTC).isoformat(), actor, role, action,
              object_type, object_id, details_sha256]
    return sha256_hex("\x1f".join(fields))


def append(conn: psycopg.Connection, *, actor: str, role: str, action: str, object_type: str,
           object_id: str, details: dict[str, Any]) -> str:
    """Append one row inside the caller's transaction; returns its hash. The database numbers the row and
    chains it (`audit.append`, lfr_core/db/harden.py): the application's login cannot write the table."""
    # Stored and hashed as the JSON round trip PostgreSQL will give back.
    details = json.loads(canonical_json(details))
    return queries.append_row(conn, occurred_at=datetime.now(UTC).isoformat(), actor=actor, role=role, action=action,
                              object_type=object_type, object_id=object_id, details=details,
                              details_sha256=sha256_hex(canonical_json(details)))


def describe_change(conn: psycopg.Connection, *, actor: str, role: str, details: dict[str, Any]) -> None:
    """Say what the next guarded change in this transaction is for. A change of state (a watchlist version's,
    a deployment's, an alert's decision, an assignment) writes its own audit row from its trigger
    (`lfr_audit_change` in lfr_core/db/policy/00_common.sql), so that direct SQL cannot make one unrecorded; the row
    carries these details (a reason, a note) and the role acted in, under the facts the trigger sets itself.
    The actor's name is used only for the platform's own service ('system'); a person's is their login's."""
    said = {"role": role, "actor": actor, "details": json.loads(canonical_json(details))}
    queries.describe_next_change(conn, canonical_json(said))


@dataclass
class VerifyResult:
    rows: int = 0
    head: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: psycopg.Connection) -> VerifyResult:
    """Walk the chain in order and report every break (edited, inserted or deleted rows)."""
    result = VerifyResult()
    expected_prev, expected_seq = GENESIS_HASH, 1
    for row in queries.rows_in_order(conn):
        seq = row["seq"]
        if seq != expected_seq:
            result.problems.append(f"row {seq}: sequence gap, expected {expected_seq} (row deleted or inserted)")
        if row["prev_hash"] != expected_prev:
            result.problems.append(f"row {seq}: prev_hash does not match the previous row (chain broken)")
        if sha256_hex(canonical_json(row["details"])) != row["details_sha256"]:
            result.problems.append(f"row {seq}: details were edited (details hash mismatch)")
        recomputed = _row_hash(row["prev_hash"], seq, row["occurred_at"], row["actor"], row["role"],
                               row["action"], row["object_type"], row["object_id"], row["details_sha256"])
        if recomputed != row["row_hash"]:
            result.problems.append(f"row {seq}: row hash mismatch (fields edited)")
        expected_prev, expected_seq = row["row_hash"], seq + 1
        result.rows += 1
    result.head = expected_prev
    return result


def export(conn: psycopg.Connection, *, object_type: str | None = None, object_id: str | None = None) -> list[dict]:
    return queries.rows_of(conn, object_type=object_type or None, object_id=object_id or None)
