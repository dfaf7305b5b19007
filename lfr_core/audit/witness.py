"""The auditor's memory of the audit log, as a Certificate Transparency monitor keeps one (RFC 9162).

The signed checkpoints (lfr_core.audit.checkpoints) prove a rewrite only while they exist, and a
verifier that keeps nothing cannot tell a log whose checkpoints were deleted from one that never had
any. So `lfr audit verify` keeps a witness outside the database and the checkpoint store: the last
checkpoint it verified (tree size, root, key, signature), the key of every checkpoint it has seen, and
the decision rows those covered (their hashes and who made them). On each run it fails when

- a checkpoint it saw is gone from the store (all of them, or some), before its retention lapsed;
- the log no longer has the witnessed root at the witnessed size, or the newest checkpoint is not an
  extension of the witnessed one (the RFC 9162 consistency proof, computed from the table, fails): rows
  were rewritten, even if every hash and a new checkpoint were recomputed with a stolen key;
- a decision row the witness saw was rewritten or removed (the row, and what changed, named);
- a decision row (approval, rejection, activation, expiry, purge, cancellation) is older than
  `audit.decision_checkpoint_minutes` with no valid checkpoint covering it: each decision writes one at
  once, so a missing one means checkpoints were deleted or never written. This holds on a first run too.

A second copy (`audit.witness_mirror`: another mount, or a bucket only the auditor writes) is read and
written alike and must agree, so that rolling one copy back is seen. With neither copy the run trusts
what it finds (trust on first use) and says so. The witness moves forward only after a run with no
problem at all, so a failure keeps failing until someone looks.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import psycopg

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.audit import queries
from lfr_core.audit.checkpoints import CheckpointCheck, StoredCheckpoint, verify_consistency
from lfr_core.config import Settings
from lfr_core.errors import InvalidInput
from lfr_core.storage.objectstore import parse_s3_uri

FORMAT = "lfr-audit-witness/1"
# The decisions a person (or the platform on their behalf) takes on a list or a deployment; each writes a
# checkpoint at once (lfr_ops/cli/watchlist_cmd.py, lfr_core/workflow/: tasks.py, approval.py, cancel.py).
DECISION_ACTIONS = ("watchlist.approved", "watchlist.rejected", "watchlist.active", "watchlist.expired",
                    "watchlist.purging", "watchlist.purged", "deployment.cancelled")
_ROW_FIELDS = ("actor", "role", "action", "object_type", "object_id", "occurred_at", "details_sha256", "row_hash")
_STATE_FIELDS = {"tree_size", "root", "checkpoint", "checkpoints_seen", "decisions", "verified_at"}
MAX_NAMED = 10  # problems of one kind named one by one; the rest counted


# -- where the witness is kept -----------------------------------------------------------------------------

class WitnessCopy(Protocol):
    @property
    def name(self) -> str: ...

    def read(self) -> bytes | None: ...

    def write(self, data: bytes) -> None: ...


@dataclass
class FileCopy:
    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    def read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None

    def write(self, data: bytes) -> None:
        """Whole or not at all: a temporary file (0600) beside it, synced, then renamed over it."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)


@dataclass
class S3Copy:
    store: Any
    bucket: str
    key: str

    @property
    def name(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def read(self) -> bytes | None:
        if not any(key == self.key for key, _ in self.store.list_keys(self.bucket, self.key)):
            return None
        return bytes(self.store.get_bytes(self.bucket, self.key))

    def write(self, data: bytes) -> None:
        self.store.put_bytes(self.bucket, self.key, data, "application/json")


def witness_path(settings: Settings) -> Path:
    return settings.audit.witness_file or settings.home / "audit-witness.json"


def copies(settings: Settings, store: Any) -> list[WitnessCopy]:
    """The witness and, when configured, its mirror."""
    found: list[WitnessCopy] = [FileCopy(witness_path(settings))]
    mirror = settings.audit.witness_mirror
    if mirror:
        if mirror.startswith("s3://"):
            try:
                found.append(S3Copy(store, *parse_s3_uri(mirror)))
            except ValueError as e:
                raise InvalidInput(f"LFR_AUDIT__WITNESS_MIRROR: {e}") from e
        else:
            path = Path(mirror).expanduser()
            found.append(FileCopy(path / "audit-witness.json" if path.is_dir() else path))
    if len({c.name for c in found}) < len(found):
        raise InvalidInput("LFR_AUDIT__WITNESS_MIRROR names the witness file itself; give a second place")
    return found


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """One verify at a time per witness, so two runs cannot leave the copies disagreeing."""
    path = witness_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path.with_name(f".{path.name}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# -- the check ---------------------------------------------------------------------------------------------

@dataclass
class LogVerification:
    """The whole of `lfr audit verify`: the chain, the checkpoints and the witness."""
    rows: int
    head: str
    problems: list[str]
    notes: list[str]
    summary: dict[str, Any]
    witness: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def _decision_rows(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    """Decision rows with their leaf position (1-based) in the tree, which is their place in seq order."""
    return queries.rows_with_actions(conn, DECISION_ACTIONS, _ROW_FIELDS)


def _rows_at(conn: psycopg.Connection[Any], seqs: list[int]) -> dict[int, dict[str, Any]]:
    return {r["seq"]: r for r in queries.rows_at(conn, seqs, _ROW_FIELDS)}


def _describe(row: dict[str, Any]) -> str:
    return f"row {row['seq']} ({row['action']} of {row['object_type']} {row['object_id']} by {row['actor']})"


def _named(problems: list[str], lines: list[str], what: str) -> None:
    problems.extend(lines[:MAX_NAMED])
    if len(lines) > MAX_NAMED:
        problems.append(f"...and {len(lines) - MAX_NAMED} more {what}")


def _signed_at_of_key(key: str) -> datetime | None:
    """The time in a checkpoint's object name (`<tree size>-<%Y%m%dT%H%M%S%fZ>.json`)."""
    try:
        return datetime.strptime(key.rsplit("-", 1)[1].removesuffix(".json"), "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except (IndexError, ValueError):
        return None


def _newest(found: CheckpointCheck) -> StoredCheckpoint | None:
    signed = [c for c in found.checkpoints if c.signature_ok]
    return max(signed, key=lambda c: (c.tree_size, c.signed_at)) if signed else None


def _read_copies(places: list[WitnessCopy], problems: list[str]) -> tuple[list[dict[str, Any]], bool]:
    """The distinct witness states held by the copies, and whether any copy exists at all; a missing,
    unreadable or disagreeing copy is a problem (only none at all is a first use)."""
    states: dict[str, dict[str, Any]] = {}
    held: dict[str, str] = {}
    exists = False
    for place in places:
        data = place.read()
        if data is None:
            continue
        exists = True
        try:
            state = json.loads(data)
            if state.get("format") != FORMAT:
                raise ValueError(f"format {state.get('format')!r}, expected {FORMAT}")
            if missing := _STATE_FIELDS - state.keys():
                raise ValueError(f"no {', '.join(sorted(missing))}")
        except (ValueError, AttributeError) as e:
            problems.append(f"witness {place.name} is unreadable ({e}): restore it from its other copy or a backup")
            continue
        canonical = json.dumps(state, sort_keys=True)
        states.setdefault(canonical, state)
        held[place.name] = canonical
    if held and len(held) < len(places):
        missing = [p.name for p in places if p.name not in held]
        present = next(iter(held))
        problems.append(f"witness {', '.join(missing)} is missing but {', '.join(held)} holds one "
                        f"(tree size {states[held[present]]['tree_size']}): a copy was deleted; if this is a new "
                        f"mirror, copy the witness there")
    if len(states) > 1:
        sizes = ", ".join(f"{name}: tree size {states[c]['tree_size']}, {len(states[c]['checkpoints_seen'])} "
                          f"checkpoints seen, verified {states[c]['verified_at']}" for name, c in held.items())
        problems.append(f"the witness copies disagree ({sizes}): one was rolled back or edited; each is checked")
    return list(states.values()), exists


def _check_against(state: dict[str, Any], found: CheckpointCheck, conn: psycopg.Connection[Any], settings: Settings,
                   now: datetime) -> list[str]:
    problems: list[str] = []
    bucket = settings.s3.bucket_reports
    witnessed = state.get("checkpoint") or {}
    m, verified_at = int(state["tree_size"]), state["verified_at"]
    retention = timedelta(days=settings.audit.checkpoint_retention_days)
    present = {c.key: c for c in found.checkpoints}

    # every checkpoint the witness saw must still be there, until its retention lapses
    gone = [key for key in state["checkpoints_seen"] if key not in present
            and not ((at := _signed_at_of_key(key)) is not None and at + retention < now)]
    if gone and not present:
        problems.append(f"the witness saw {len(state['checkpoints_seen'])} checkpoints (the latest "
                        f"{witnessed.get('key')}, {m} rows, verified {verified_at}) but s3://{bucket}/"
                        f"{audit_checkpoints.PREFIX} holds none: the checkpoints were deleted")
    _named(problems, [f"checkpoint {key} is gone from s3://{bucket}: the witness saw it (last verified {verified_at})"
                      for key in gone], "checkpoints gone")
    if witnessed.get("key") in present and present[witnessed["key"]].signature != witnessed.get("signature"):
        problems.append(f"checkpoint {witnessed['key']} is not the one the witness verified: it was replaced")

    # the log still has the witnessed root at the witnessed size, and the newest checkpoint extends it
    if m > found.rows:
        problems.append(f"the witness verified {m} rows (checkpoint {witnessed.get('key')}) but the log has "
                        f"{found.rows}: rows were deleted")
    elif found.tree.root(m).hex() != state["root"]:
        problems.append(f"rows 1-{m} no longer have the root the witness verified on {verified_at} (checkpoint "
                        f"{witnessed.get('key')}): rows were rewritten and the chain rehashed")
    newest = _newest(found)
    if newest is not None and m > 0:
        n = newest.tree_size
        if n < m:
            problems.append(f"the newest checkpoint {newest.key} covers {n} rows, fewer than the {m} the witness "
                            f"verified (checkpoint {witnessed.get('key')})")
        elif n <= found.rows:
            proof = found.tree.consistency_proof(m, n)
            if not verify_consistency(m, n, bytes.fromhex(state["root"]), bytes.fromhex(newest.root), proof):
                problems.append(f"checkpoint {newest.key} ({n} rows) is not consistent with checkpoint "
                                f"{witnessed.get('key')} ({m} rows) that the witness verified: the RFC 9162 "
                                f"consistency proof from the log fails, so the history before it was rewritten")

    # the decision rows the witness saw, one by one
    seen = {int(d["seq"]): d for d in state.get("decisions", [])}
    now_rows = _rows_at(conn, list(seen))
    changes = []
    for seq, was in sorted(seen.items()):
        row = now_rows.get(seq)
        if row is None:
            changes.append(f"{_describe(was)} that the witness saw is gone")
        elif row["row_hash"] != was["row_hash"]:
            changed = [f"{f} {was[f]!r} is now {_field(row, f)!r}" for f in _ROW_FIELDS[:-1] if _field(row, f) != was[f]]
            changes.append(f"{_describe(was)} was rewritten after the witness saw it: "
                           + ("; ".join(changed) or "its hash differs"))
    _named(problems, changes, "decision rows changed")
    return problems


def _field(row: dict[str, Any], name: str) -> str:
    value = row[name]
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else str(value)


def _uncovered(decisions: list[dict[str, Any]], found: CheckpointCheck, settings: Settings, now: datetime) -> list[str]:
    """Decision rows older than `audit.decision_checkpoint_minutes` that no valid checkpoint covers."""
    interval = timedelta(minutes=settings.audit.decision_checkpoint_minutes)
    covered = max((c.tree_size for c in found.checkpoints if found.matches(c)), default=0)
    late = [row for row in decisions if row["position"] > covered and now - row["occurred_at"] > interval]
    return [f"{_describe(row)} at {row['occurred_at'].astimezone(UTC).isoformat()} is older than "
            f"{interval.total_seconds() / 60:.0f} min and no valid checkpoint covers it (they cover {covered} rows): "
            f"decisions are checkpointed at once, so checkpoints were deleted or not written" for row in late]


def _next_state(found: CheckpointCheck, previous: list[dict[str, Any]], decisions: list[dict[str, Any]],
                settings: Settings, now: datetime) -> dict[str, Any]:
    newest = _newest(found)
    m = newest.tree_size if newest else 0
    retention = timedelta(days=settings.audit.checkpoint_retention_days)
    seen = {c.key for c in found.checkpoints if c.signature_ok}
    for state in previous:  # lapsed ones drop out; the others are all present, or the run would have failed
        seen |= {k for k in state["checkpoints_seen"] if not ((at := _signed_at_of_key(k)) and at + retention < now)}
    return {
        "format": FORMAT, "origin": audit_checkpoints.ORIGIN, "verified_at": now.isoformat(),
        "tree_size": m, "root": found.tree.root(m).hex(), "log_rows": found.rows,
        "checkpoint": {"key": newest.key, "signed_at": newest.signed_at, "key_id": newest.body.get("key_id"),
                       "head_hash": newest.body.get("head_hash"), "signature": newest.signature} if newest else None,
        "checkpoints_seen": sorted(seen),
        "decisions": [{"seq": row["seq"], **{f: _field(row, f) for f in _ROW_FIELDS}}
                      for row in decisions if row["position"] <= m],
    }


def verify_log(conn: psycopg.Connection[Any], store: Any, settings: Settings, *, now: datetime | None = None,
               record: bool = True) -> LogVerification:
    """Walk the chain, check every checkpoint, check both against the witness; with no problem at all (and
    `record`), move the witness forward to the newest checkpoint, in every copy."""
    now = now or datetime.now(UTC)
    places = copies(settings, store)
    with _locked(settings):
        chain = audit.verify(conn)
        found = audit_checkpoints.check(conn, store, settings, now)
        decisions = _decision_rows(conn)
        problems = chain.problems + found.problems
        notes: list[str] = []
        states, exists = _read_copies(places, problems)
        for state in states:
            problems += [p for p in _check_against(state, found, conn, settings, now) if p not in problems]
        _named(problems, _uncovered(decisions, found, settings, now), "decision rows uncovered")
        if len(places) == 1:
            notes.append("no witness mirror configured (LFR_AUDIT__WITNESS_MIRROR): a single copy of the witness can "
                         "be rolled back unseen by whoever can write it")
        first_use = not exists
        if first_use:
            notes.append(f"no witness at {', '.join(p.name for p in places)}: first use, the log and the "
                         f"{len(found.checkpoints)} checkpoints are trusted as found (trust on first use)")
        witness = {"copies": [p.name for p in places], "first_use": first_use,
                   "tree_size": states[0]["tree_size"] if len(states) == 1 else None, "recorded": False}
        if not problems and record:
            state = _next_state(found, states, decisions, settings, now)
            data = (json.dumps(state, sort_keys=True, indent=1) + "\n").encode()
            for place in places:
                place.write(data)
            witness.update(tree_size=state["tree_size"], recorded=True,
                           checkpoints_seen=len(state["checkpoints_seen"]))
            notes.append(f"witness now at checkpoint {(state['checkpoint'] or {}).get('key')} ({state['tree_size']} "
                         f"rows), {len(state['checkpoints_seen'])} checkpoints seen")
    return LogVerification(chain.rows, chain.head, problems, notes, found.summary, witness)
