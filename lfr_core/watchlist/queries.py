"""The watchlist context's SQL (issue 26 item 1): the only module that reads or writes watchlist_versions,
watchlist_entries, watchlist_embeddings and staging_claims. Each function asks one thing and returns frozen
records or scalars; writes run inside the caller's transaction (`with conn.transaction()` or `acting`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import DictRow, class_row, scalar_row
from psycopg.types.json import Jsonb

from lfr_core.db.rows import fetch_all as _all
from lfr_core.db.rows import fetch_one as _one
from lfr_core.watchlist.model import (
    Candidate,
    Enrolled,
    FaceRow,
    ImageToPurge,
    NewEntry,
    NewVersion,
    ProbeHit,
    SnapshotRef,
    Template,
    VersionState,
)

# Connections come from lfr_core.db.connection.connect() with dict rows; each read here asks for them itself, so
# its rows are typed whatever the caller's connection says.
Connection = psycopg.Connection[Any]
VersionId = uuid.UUID | str


# Versions


def find_version(conn: Connection, version_id: VersionId) -> DictRow | None:
    return _one(conn, "SELECT * FROM watchlist_versions WHERE id = %s", (str(version_id),))


def all_versions(conn: Connection) -> list[DictRow]:
    return _all(conn, "SELECT * FROM watchlist_versions ORDER BY built_at")


def versions_of(conn: Connection, deployment_id: uuid.UUID | str) -> list[DictRow]:
    return _all(conn, "SELECT * FROM watchlist_versions WHERE deployment_id = %s ORDER BY version",
                        (str(deployment_id),))


def versions_of_deployments(conn: Connection, deployment_ids: Sequence[uuid.UUID]) -> list[DictRow]:
    return _all(conn, "SELECT * FROM watchlist_versions WHERE deployment_id = ANY(%s) ORDER BY version",
                        (list(deployment_ids),))


def active_version(conn: Connection, deployment_id: uuid.UUID | str) -> DictRow | None:
    return _one(conn, "SELECT * FROM watchlist_versions WHERE deployment_id = %s AND state = %s",
                        (str(deployment_id), VersionState.ACTIVE))


def version_by_build_key(conn: Connection, deployment_id: uuid.UUID, build_key: str) -> DictRow | None:
    """The version a deployment built with `build_key` (keys belong to one deployment)."""
    return _one(conn, "SELECT * FROM watchlist_versions WHERE deployment_id = %s AND build_key = %s",
                        (deployment_id, build_key))


def next_version_number(conn: Connection, deployment_id: uuid.UUID) -> int:
    """The number the deployment's next version takes; the caller holds the deployment's row lock."""
    row = _one(conn, "SELECT coalesce(max(version), 0) + 1 AS n FROM watchlist_versions WHERE deployment_id = %s",
                       (deployment_id,))
    assert row is not None  # an aggregate always answers
    return int(row["n"])


def unpurged_version_count(conn: Connection, deployment_id: uuid.UUID | str) -> int:
    row = _one(conn, "SELECT count(*) AS n FROM watchlist_versions WHERE deployment_id = %s AND state <> %s",
                       (str(deployment_id), VersionState.PURGED))
    assert row is not None
    return int(row["n"])


def insert_version(conn: Connection, version: NewVersion) -> None:
    conn.execute(
        """INSERT INTO watchlist_versions
             (id, deployment_id, version, build_key, built_by, manifest_uri, manifest_sha256, detector,
              embedder, embedder_sha256, embedding_dim, threshold, threshold_source, entries_total,
              entries_accepted, entries_rejected, evidence_calibration_id, evidence_target_fpir, evidence,
              reliable_face_px, reliable_face_source)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
        (version.id, version.deployment_id, version.version, version.build_key, version.built_by,
         version.manifest_uri, version.manifest_sha256, Jsonb(version.detector), Jsonb(version.embedder),
         version.embedder["weights_sha256"], version.embedder["embedding_dim"], version.threshold,
         version.threshold_source, version.entries_total, version.entries_accepted, version.entries_rejected,
         version.evidence.calibration_id, version.evidence.target_fpir, Jsonb(version.evidence.to_json()),
         version.reliable_face_px, Jsonb(version.reliable_face_source)),
    )


def set_snapshot(conn: Connection, version_id: uuid.UUID, uri: str, sha256: str, object_version: str | None) -> DictRow:
    row = _one(
        conn,
        """UPDATE watchlist_versions SET snapshot_uri = %s, snapshot_sha256 = %s, snapshot_version = %s
           WHERE id = %s RETURNING *""", (uri, sha256, object_version, version_id))
    assert row is not None  # the caller inserted it in this transaction
    return row


# State changes: the version's trigger checks each against `state_transitions` and writes its audit row.


def _set_state(conn: Connection, version_id: uuid.UUID, state: VersionState, stamp: str | None = None,
               **values: Any) -> DictRow:
    """Move a version to `state`, stamping `stamp` with now() and setting `values` (column names of ours)."""
    sets = [sql.SQL("state = {}").format(sql.Placeholder("state"))]
    if stamp:
        sets.append(sql.SQL("{} = now()").format(sql.Identifier(stamp)))
    sets += [sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in values]
    row = _one(conn, sql.SQL("UPDATE watchlist_versions SET {} WHERE id = {} RETURNING *").format(
        sql.SQL(", ").join(sets), sql.Placeholder("id")), {**values, "state": state, "id": version_id})
    if row is None:
        raise LookupError(f"no watchlist version {version_id}")
    return row


def mark_approved(conn: Connection, version_id: uuid.UUID, approved_by: str, criteria_sha256: str,
                  evidence_override_reason: str | None = None) -> DictRow:
    """Seal a draft; with `evidence_override_reason`, the approver's decision to seal a list its evidence does not
    resolve is recorded in their name."""
    override = ({} if evidence_override_reason is None else
                {"evidence_override_by": approved_by, "evidence_override_reason": evidence_override_reason,
                 "evidence_override_at": datetime.now(UTC)})
    return _set_state(conn, version_id, VersionState.APPROVED, "approved_at", approved_by=approved_by,
                      criteria_sha256=criteria_sha256, **override)


def set_gate(conn: Connection, version_id: uuid.UUID, face_px: int, decided_by: str | None, reason: str | None,
             decided_at: datetime | None) -> DictRow:
    """A version's live gate size, with the authoriser's decision when it goes below the recorded reliable size
    (the version's trigger checks it and writes the audit row)."""
    row = _one(conn, """UPDATE watchlist_versions SET gate_face_px = %s, gate_decided_by = %s, gate_reason = %s,
                                                       gate_decided_at = %s
                        WHERE id = %s RETURNING *""", (face_px, decided_by, reason, decided_at, version_id))
    if row is None:
        raise LookupError(f"no watchlist version {version_id}")
    return row


def mark_active(conn: Connection, version_id: uuid.UUID) -> DictRow:
    return _set_state(conn, version_id, VersionState.ACTIVE, "activated_at")


def mark_expired(conn: Connection, version_id: uuid.UUID) -> DictRow:
    return _set_state(conn, version_id, VersionState.EXPIRED, "expired_at")


def mark_purging(conn: Connection, version_id: uuid.UUID, progress: dict[str, Any]) -> DictRow:
    return _set_state(conn, version_id, VersionState.PURGING, purge_progress=Jsonb(progress))


def mark_purged(conn: Connection, version_id: uuid.UUID, receipt: dict[str, Any]) -> DictRow:
    return _set_state(conn, version_id, VersionState.PURGED, "purged_at", purge_receipt=Jsonb(receipt))


# Entries and templates


def entries(conn: Connection, version_id: uuid.UUID) -> list[DictRow]:
    """Every entry of a version, by subject and image (the order the approval's hash takes them in)."""
    return _all(conn, "SELECT * FROM watchlist_entries WHERE version_id = %s ORDER BY subject_ref, image_index",
                        (version_id,))


def entries_as_built(conn: Connection, version_id: uuid.UUID) -> list[DictRow]:
    """A version's entries in manifest order, with what a build reports of each."""
    return _all(
        conn,
        """SELECT subject_ref, image_index, category, rationale, provenance, capture_date, source_uri, image_sha256,
                  image_uri, status, reason, legal_basis, date_of_birth, age_band, under_18_rationale
           FROM watchlist_entries WHERE version_id = %s ORDER BY id""",
        (version_id,))


def insert_entries(conn: Connection, version_id: uuid.UUID, rows: Sequence[NewEntry]) -> dict[tuple[str, int], int]:
    """The entries, in one statement; (subject_ref, image_index) -> entry id."""
    inserted = _all(
        conn,
        """INSERT INTO watchlist_entries (version_id, subject_ref, image_index, category, rationale, provenance,
                                          capture_date, source_uri, image_sha256, image_uri, status, reason, quality,
                                          legal_basis, date_of_birth, age_band, under_18_rationale)
           SELECT %s, * FROM unnest(%s::text[], %s::int[], %s::text[], %s::text[], %s::text[], %s::date[], %s::text[],
                                    %s::text[], %s::text[], %s::text[], %s::text[], %s::jsonb[], %s::text[], %s::date[],
                                    %s::text[], %s::text[])
           RETURNING id, subject_ref, image_index""",
        (version_id,
         [r.subject_ref for r in rows], [r.image_index for r in rows], [r.category for r in rows],
         [r.rationale for r in rows], [r.provenance for r in rows], [r.capture_date for r in rows],
         [r.source_uri for r in rows], [r.image_sha256 for r in rows], [r.image_uri for r in rows],
         [r.status for r in rows], [r.reason for r in rows], [Jsonb(r.quality) for r in rows],
         [r.legal_basis for r in rows], [r.date_of_birth for r in rows], [r.age_band for r in rows],
         [r.under_18_rationale for r in rows]),
    )
    return {(row["subject_ref"], row["image_index"]): int(row["id"]) for row in inserted}


def insert_embeddings(conn: Connection, version_id: uuid.UUID, dim: int,
                      embeddings: Sequence[tuple[int, np.ndarray]]) -> None:
    """(entry id, embedding) of each accepted entry."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO watchlist_embeddings (entry_id, version_id, embedding_dim, embedding) VALUES (%s, %s, %s, %s)",
            [(entry_id, version_id, dim, embedding) for entry_id, embedding in embeddings])


def templates(conn: Connection, version_id: uuid.UUID) -> list[Template]:
    """Each template of a version with its entry, in entry order."""
    rows = _all(
        conn,
        """SELECT e.entry_id, w.subject_ref, w.category, w.image_uri, e.embedding
           FROM watchlist_embeddings e JOIN watchlist_entries w ON w.id = e.entry_id
           WHERE e.version_id = %s ORDER BY e.entry_id""", (version_id,))
    return [Template(r["entry_id"], r["subject_ref"], r["category"], r["image_uri"],
                     np.asarray(r["embedding"].to_numpy(), dtype=np.float32)) for r in rows]


def ensure_hnsw_index(conn: Connection, dim: int, m: int, ef_construction: int) -> None:
    # Through the schema owner's function (migration 0009): the application's login owns no table.
    conn.execute("SELECT ensure_hnsw_index(%s, %s, %s)", (dim, m, ef_construction))


def nearest_templates(conn: Connection, version_id: VersionId, embedding: np.ndarray, *, dim: int, k: int,
                      ef_search: int) -> list[Candidate]:
    """Top-k templates of one version by cosine similarity, through the dimension's HNSW index; its search
    parameters hold for this transaction only."""
    with conn.transaction():
        conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
        # Version filtering happens after the index scan; iterative scans keep going until k rows pass it.
        conn.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        # The dimension is part of the indexed expression, so it is written into the statement (an int).
        typed = sql.SQL("vector({})").format(sql.Literal(dim))
        with conn.cursor(row_factory=class_row(Candidate)) as cur:
            return cur.execute(sql.SQL(
                """SELECT e.entry_id, w.subject_ref, w.category,
                          (1 - (e.embedding::{t} <=> %(q)s::{t}))::float8 AS score
                   FROM watchlist_embeddings e JOIN watchlist_entries w ON w.id = e.entry_id
                   WHERE e.version_id = %(v)s AND e.embedding_dim = %(dim)s
                   ORDER BY e.embedding::{t} <=> %(q)s::{t}
                   LIMIT %(k)s""").format(t=typed),
                {"q": embedding.astype(np.float32), "v": str(version_id), "dim": dim, "k": k}).fetchall()


def accepted_subject_count(conn: Connection, version_ids: Sequence[uuid.UUID]) -> int:
    """Subjects with an accepted image on any of the versions (entries outlive a purge)."""
    row = _one(conn, """SELECT count(DISTINCT subject_ref) AS n FROM watchlist_entries
                          WHERE status = 'accepted' AND version_id = ANY(%s)""", (list(version_ids),))
    assert row is not None
    return int(row["n"])


def rejected_entries(conn: Connection, version_ids: Sequence[uuid.UUID]) -> list[DictRow]:
    return _all(
        conn,
        """SELECT version_id, subject_ref, image_index, reason FROM watchlist_entries
           WHERE version_id = ANY(%s) AND status <> 'accepted' ORDER BY subject_ref, image_index""",
        (list(version_ids),))


def matched_entry_quality(conn: Connection, version_id: uuid.UUID, subject_ref: str,
                          image_uri: str | None) -> dict[str, Any] | None:
    """The quality measures (and face box) of the accepted image an alert matched: the one it names, else the
    subject's first."""
    row = _one(
        conn,
        """SELECT quality FROM watchlist_entries WHERE version_id = %s AND subject_ref = %s AND status = 'accepted'
           ORDER BY (image_uri = %s) DESC, image_index LIMIT 1""", (version_id, subject_ref, image_uri))
    return None if row is None else row["quality"]


# Purges


def enrolled(conn: Connection, version_id: uuid.UUID) -> Enrolled:
    row = _one(
        conn,
        """SELECT count(DISTINCT w.subject_ref) AS subjects, count(*) AS templates FROM watchlist_embeddings e
           JOIN watchlist_entries w ON w.id = e.entry_id WHERE e.version_id = %s""", (version_id,))
    assert row is not None
    return Enrolled(int(row["subjects"]), int(row["templates"]))


def copied_image_hashes(conn: Connection, version_id: uuid.UUID) -> list[str]:
    rows = _all(conn, """SELECT image_sha256 FROM watchlist_entries WHERE version_id = %s AND image_uri IS NOT NULL
                           ORDER BY id""", (version_id,))
    return [r["image_sha256"] for r in rows]


def delete_embeddings(conn: Connection, version_id: uuid.UUID) -> int:
    return conn.execute("DELETE FROM watchlist_embeddings WHERE version_id = %s", (version_id,)).rowcount


def embeddings_left(conn: Connection, version_id: uuid.UUID) -> int:
    row = _one(conn, "SELECT count(*) AS n FROM watchlist_embeddings WHERE version_id = %s",
                       (version_id,))
    assert row is not None
    return int(row["n"])


def mark_images_kept(conn: Connection, version_id: uuid.UUID, image_uris: Sequence[str]) -> None:
    """The copies that alerts awaiting a decision still show: kept, and no longer the purge's to delete."""
    conn.execute("""UPDATE watchlist_entries SET image_purge = 'kept', image_uri = NULL
                    WHERE version_id = %s AND image_uri = ANY(%s)""", (version_id, list(image_uris)))


def images_to_purge(conn: Connection, version_id: uuid.UUID, limit: int) -> list[ImageToPurge]:
    with conn.cursor(row_factory=class_row(ImageToPurge)) as cur:
        return cur.execute("""SELECT id, image_uri, image_purge FROM watchlist_entries
                              WHERE version_id = %s AND image_uri IS NOT NULL ORDER BY id LIMIT %s""",
                           (version_id, limit)).fetchall()


def mark_images_deleting(conn: Connection, entry_ids: Sequence[int]) -> None:
    conn.execute("UPDATE watchlist_entries SET image_purge = 'deleting' WHERE id = ANY(%s)", (list(entry_ids),))


def record_image_outcomes(conn: Connection, outcomes: dict[int, str]) -> None:
    """Entry id -> what became of its copy (`deleted` or `missing`); the copy's URI goes."""
    conn.execute("""UPDATE watchlist_entries e SET image_purge = o.outcome, image_uri = NULL
                    FROM unnest(%s::bigint[], %s::text[]) AS o(id, outcome) WHERE e.id = o.id""",
                 (list(outcomes), list(outcomes.values())))


def image_outcomes(conn: Connection, version_id: uuid.UUID) -> dict[str, int]:
    """How many copies of the version each purge outcome has."""
    rows = _all(conn, """SELECT image_purge, count(*) AS n FROM watchlist_entries WHERE version_id = %s
                           AND image_purge IS NOT NULL GROUP BY image_purge""", (version_id,))
    return {r["image_purge"]: int(r["n"]) for r in rows}


def version_state(conn: Connection, version_id: uuid.UUID) -> str | None:
    row = _one(conn, "SELECT state FROM watchlist_versions WHERE id = %s", (version_id,))
    return None if row is None else str(row["state"])


def snapshots(conn: Connection) -> list[SnapshotRef]:
    """Every version's snapshot with its deployment's place and window, oldest build first."""
    with conn.cursor(row_factory=class_row(SnapshotRef)) as cur:
        return cur.execute(
            """SELECT v.id, v.version, v.state, v.snapshot_uri, v.snapshot_sha256, v.activated_at, v.purged_at,
                      d.id AS deployment_id, d.place, d.window_start, d.window_end
               FROM watchlist_versions v JOIN deployments d ON d.id = v.deployment_id ORDER BY v.built_at""").fetchall()


# Sources


def claim_staging_folder(conn: Connection, folder: str, deployment_id: uuid.UUID | str) -> str:
    """Claim an S3 staging folder for a deployment unless another has; the owner's id, as text."""
    conn.execute("INSERT INTO staging_claims (folder, deployment_id) VALUES (%s, %s) ON CONFLICT (folder) DO NOTHING",
                 (folder, str(deployment_id)))
    row = _one(conn, "SELECT deployment_id FROM staging_claims WHERE folder = %s", (folder,))
    assert row is not None  # inserted above, or by the first claimant
    return str(row["deployment_id"])


def claimed_staging_folders(conn: Connection) -> set[str]:
    """Every S3 staging folder (`staging/<name>/`) a deployment has claimed."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return {str(folder) for folder in cur.execute("SELECT folder FROM staging_claims").fetchall()}


# Reports


def report_versions(conn: Connection, deployment_id: uuid.UUID) -> list[DictRow]:
    """A deployment's versions with what its transparency report says of each."""
    return _all(
        conn,
        """SELECT id, version, state, built_by, approved_by, entries_total, entries_accepted, entries_rejected,
                  activated_at, expired_at, purged_at, threshold, embedder->>'name' AS embedder, embedder_sha256,
                  purge_receipt->>'receipt_uri' AS receipt_uri, evidence, evidence_override_by,
                  evidence_override_reason, reliable_face_px, reliable_face_source, gate_face_px, gate_decided_by,
                  gate_reason, gate_decided_at
           FROM watchlist_versions WHERE deployment_id = %s ORDER BY version""", (deployment_id,))


# Operator tooling (the demo's progress)


def latest_version_by_reference(conn: Connection, intelligence_ref: str) -> DictRow | None:
    """The deployment with this intelligence reference and its latest version (if any), with why it ended
    when it lapsed or was cancelled."""
    return _one(
        conn,
        """SELECT d.id, d.status, d.window_start, d.window_end, v.id AS version_id, v.state, v.entries_accepted,
                  v.entries_rejected, v.approved_by, v.purge_receipt,
                  coalesce(d.cancel_reason, (SELECT a.details->>'reason' FROM audit.audit_log a
                                             WHERE a.object_type = 'deployment' AND a.object_id = d.id::text
                                               AND a.action = 'deployment.lapsed' ORDER BY a.seq DESC LIMIT 1))
                    AS ended_because
           FROM deployments d LEFT JOIN watchlist_versions v ON v.deployment_id = d.id
           WHERE d.intelligence_ref = %s ORDER BY v.version DESC NULLS LAST LIMIT 1""",
        (intelligence_ref,))


# Used by the workflow


class Settlement(NamedTuple):
    """What an approval's wait depends on: the version's state and its deployment's status."""

    state: str
    deployment_status: str


def version_and_deployment_state(conn: Connection, version_id: VersionId) -> Settlement | None:
    with conn.cursor(row_factory=class_row(Settlement)) as cur:
        return cur.execute(
            """SELECT v.state, d.status AS deployment_status FROM watchlist_versions v
               JOIN deployments d ON d.id = v.deployment_id WHERE v.id = %s""", (str(version_id),)).fetchone()


def previous_version_id(conn: Connection, deployment_id: uuid.UUID, version: int) -> uuid.UUID | None:
    """The deployment's version numbered just below `version`, if any."""
    with conn.cursor(row_factory=scalar_row) as cur:
        found: uuid.UUID | None = cur.execute(
            "SELECT id FROM watchlist_versions WHERE deployment_id = %s AND version < %s ORDER BY version DESC LIMIT 1",
            (deployment_id, version)).fetchone()
    return found


def latest_draft_by_reference(conn: Connection, intelligence_ref: str) -> uuid.UUID | None:
    """The latest draft of the deployment with this intelligence reference."""
    with conn.cursor(row_factory=scalar_row) as cur:
        found: uuid.UUID | None = cur.execute(
            """SELECT v.id FROM watchlist_versions v JOIN deployments d ON d.id = v.deployment_id
               WHERE d.intelligence_ref = %s AND v.state = 'draft' ORDER BY v.built_at DESC LIMIT 1""",
            (intelligence_ref,)).fetchone()
    return found


# The deployments with something left to do for the sweep (lfr_core/workflow/sweeps.py); one indexed query, as
# it runs every minute.
_DUE = """
SELECT d.id FROM deployments d
WHERE (d.status = 'cancelled' OR d.window_end + %(grace)s <= %(now)s)
      AND EXISTS (SELECT 1 FROM watchlist_versions v WHERE v.deployment_id = d.id AND v.state <> 'purged')
   OR EXISTS (SELECT 1 FROM watchlist_versions v WHERE v.deployment_id = d.id AND v.state = 'active'
              AND NOT (d.window_start <= %(now)s AND %(now)s < d.window_end))
   OR d.status = 'planned' AND d.window_start <= %(now)s AND %(now)s < d.window_end
      AND EXISTS (SELECT 1 FROM watchlist_versions v WHERE v.deployment_id = d.id AND v.state = 'approved')
   OR d.status IN ('planned', 'live') AND d.window_end <= %(now)s
   OR d.status = 'closed' AND d.window_end <= %(now)s AND NOT EXISTS (
          SELECT 1 FROM audit.audit_log a WHERE a.object_type = 'deployment' AND a.object_id = d.id::text
          AND a.action = 'report.publish' AND a.occurred_at >= d.window_end)
      AND NOT EXISTS (SELECT 1 FROM use_deletion_receipts r WHERE r.deployment_id = d.id)
ORDER BY d.window_end
"""


def deployments_due(conn: Connection, *, now: datetime, grace: timedelta) -> list[uuid.UUID]:
    """Deployments to finish at `now`: a list to take live or down, versions to purge once the window has ended
    (plus `grace`) or the deployment was cancelled, a deployment to lapse or close, a final report to publish."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute(_DUE, {"grace": grace, "now": now}).fetchall()


# The authoriser's face view and probe test (lfr_core/db/policy/45_watchlist_inspection.sql): the database checks
# the assignment and writes the consultation before it returns a row.

def consulted_faces(conn: Connection, version_id: VersionId, page: int, per_page: int, reason: str) -> list[FaceRow]:
    with conn.cursor(row_factory=class_row(FaceRow)) as cur:
        return cur.execute("SELECT * FROM lfr_watchlist_faces(%s, %s, %s, %s)",
                           (str(version_id), page, per_page, reason)).fetchall()


def consulted_probe(conn: Connection, version_id: VersionId, probes: Sequence[str], k: int,
                    reason: str) -> list[ProbeHit]:
    """`probes` are pgvector text literals, passed as parameters and never written."""
    with conn.cursor(row_factory=class_row(ProbeHit)) as cur:
        return cur.execute("SELECT * FROM lfr_probe_watchlist(%s, %s::text[], %s, %s)",
                           (str(version_id), list(probes), k, reason)).fetchall()


def under_18_entries(conn: Connection, version_ids: Sequence[uuid.UUID]) -> list[DictRow]:
    """The subjects listed as children (with their written rationale) on any of the versions, once per subject and
    version (issue 27 item 5: the rationale goes into the deployment report)."""
    return _all(
        conn,
        """SELECT DISTINCT ON (v.version, e.subject_ref) v.version, e.subject_ref, e.under_18_rationale
           FROM watchlist_entries AS e JOIN watchlist_versions AS v ON v.id = e.version_id
           JOIN deployments AS d ON d.id = v.deployment_id
           WHERE e.version_id = ANY(%s) AND lfr_under_18(e.date_of_birth, e.age_band, d.window_start)
           ORDER BY v.version, e.subject_ref, e.image_index""",
        (list(version_ids),))
