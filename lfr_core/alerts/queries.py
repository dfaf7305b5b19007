"""The alerts context's SQL (issue 26 item 1): the only module that reads or writes alerts, held_alert_crops and
deployment_counters. Each function asks one thing and returns rows, frozen records or scalars; writes run inside
the caller's transaction (`acting`, or `with conn.transaction()`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import DictRow, class_row, tuple_row

from lfr_core.alerts.model import AlertStatus, FaceBands
from lfr_core.db.rows import fetch_all as _all
from lfr_core.db.rows import fetch_one as _one

# Connections come from lfr_core.db.connection.connect() with dict rows; each read here asks for them itself, so
# its rows are typed whatever the caller's connection says.
Connection = psycopg.Connection[Any]
AlertId = uuid.UUID | str


@dataclass(frozen=True)
class HeldCrop:
    """A probe crop waiting in PostgreSQL for the object store, with where its alert says it goes."""

    alert_id: uuid.UUID
    crop: bytes
    held_at: datetime
    deployment_id: uuid.UUID
    probe_crop_uri: str


@dataclass(frozen=True)
class CameraTotals:
    """A deployment's cameras summed: numbers only, nothing about any face."""

    cameras: int
    frames: int
    faces_seen: int
    frames_refused: int
    faces_refused_small: int
    faces_refused_other: int
    faces_below_reliable: int
    faces_reliable: int
    reliable_face_px: list[int]  # the reliable sizes the cameras' bands were last counted against, distinct


@dataclass(frozen=True)
class CategoryCount:
    """A deployment's alerts of one category, and how many were confirmed and declined."""

    category: str
    alerts: int
    confirmed: int
    declined: int


# Raising and holding


def insert_alert(conn: Connection, alert_id: uuid.UUID, *, deployment_id: uuid.UUID, version_id: uuid.UUID,
                 subject_ref: str, category: str, score: float, camera_id: str, track_id: str, captured_at: datetime,
                 probe_crop_uri: str, watchlist_image_uri: str | None) -> DictRow | None:
    """The new alert's row; None when an earlier try stored it already."""
    return _one(
        conn,
        """INSERT INTO alerts (id, deployment_id, version_id, subject_ref, category, score, camera_id,
                               track_id, captured_at, probe_crop_uri, watchlist_image_uri)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING RETURNING *""",
        (alert_id, deployment_id, version_id, subject_ref, category, score, camera_id, track_id, captured_at,
         probe_crop_uri, watchlist_image_uri))


def hold_crop(conn: Connection, alert_id: uuid.UUID, crop: bytes, sha256: str) -> None:
    conn.execute("INSERT INTO held_alert_crops (alert_id, crop, crop_sha256) VALUES (%s, %s, %s)",
                 (alert_id, crop, sha256))


def take_oldest_held_crop(conn: Connection) -> HeldCrop | None:
    """The oldest held crop, locked for this transaction; one another mover holds is skipped."""
    with conn.cursor(row_factory=class_row(HeldCrop)) as cur:
        return cur.execute(
            """SELECT h.alert_id, h.crop, h.held_at, a.deployment_id, a.probe_crop_uri
               FROM held_alert_crops h JOIN alerts a ON a.id = h.alert_id
               ORDER BY h.held_at LIMIT 1 FOR UPDATE OF h SKIP LOCKED""").fetchone()


def delete_held_crop(conn: Connection, alert_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM held_alert_crops WHERE alert_id = %s", (alert_id,))


def delete_held_crops(conn: Connection, alert_ids: Sequence[uuid.UUID]) -> int:
    return conn.execute("DELETE FROM held_alert_crops WHERE alert_id = ANY(%s)", (list(alert_ids),)).rowcount


def held_crop(conn: Connection, alert_id: AlertId) -> bytes | None:
    row = _one(conn, "SELECT crop FROM held_alert_crops WHERE alert_id = %s", (str(alert_id),))
    return None if row is None else bytes(row["crop"])


def held_crop_count(conn: Connection) -> int:
    row = _one(conn, "SELECT count(*) AS n FROM held_alert_crops")
    assert row is not None  # an aggregate always answers
    return int(row["n"])


# Reading alerts

# An alert with its subject's rationale from the list (entries outlive a purge), for the officer deciding it.
# With it, whether the deployment's pack requires two-person verification (issue 28 item 2).
_WITH_RATIONALE = """SELECT a.*, (SELECT e.rationale FROM watchlist_entries e WHERE e.version_id = a.version_id
                                 AND e.subject_ref = a.subject_ref LIMIT 1) AS rationale,
                            public.lfr_two_person(a.deployment_id) AS two_person FROM alerts a"""


def alerts_with_rationale(conn: Connection, deployment_id: uuid.UUID, *, status: str | None,
                          limit: int) -> list[DictRow]:
    """A deployment's alerts, newest first, each with its subject's rationale."""
    return _all(
        conn,
        _WITH_RATIONALE + " WHERE deployment_id = %(d)s AND (%(s)s::text IS NULL OR status = %(s)s)"
                          " ORDER BY raised_at DESC LIMIT %(n)s",
        {"d": deployment_id, "s": status or None, "n": limit})


def alert_with_rationale(conn: Connection, alert_id: AlertId) -> DictRow | None:
    return _one(conn, _WITH_RATIONALE + " WHERE id = %s", (str(alert_id),))


def last_alert_times(conn: Connection, deployment_id: uuid.UUID, camera_id: str,
                     since: datetime) -> dict[str, datetime]:
    """Subject -> capture time of the last alert on this camera since `since`."""
    rows = _all(
        conn,
        """SELECT subject_ref, max(captured_at) AS at FROM alerts
           WHERE deployment_id = %s AND camera_id = %s AND captured_at >= %s GROUP BY subject_ref""",
        (deployment_id, camera_id, since))
    return {r["subject_ref"]: r["at"] for r in rows}


def other_pending_alert_shows(conn: Connection, watchlist_image_uri: str, alert_id: uuid.UUID) -> bool:
    """Whether an alert other than `alert_id`, still awaiting a decision (or its second verifier's), shows this
    watchlist image."""
    return _one(
        conn,
        """SELECT 1 FROM alerts WHERE watchlist_image_uri = %s AND id <> %s
             AND (status = %s OR (second_status IS NULL AND public.lfr_two_person(deployment_id))) LIMIT 1""",
        (watchlist_image_uri, alert_id, AlertStatus.PENDING)) is not None


def undo_window_s(conn: Connection) -> float:
    row = _one(conn, "SELECT extract(epoch FROM public.lfr_undo_window())::float AS s")
    assert row is not None
    return float(row["s"])


# Decisions: each alert's trigger checks the change and writes its audit row.


def decide(conn: Connection, alert_id: uuid.UUID, outcome: str, by: str, note: str | None) -> DictRow:
    return _updated(_one(
        conn,
        """UPDATE alerts SET status = %s, adjudicated_by = %s, adjudicated_at = now(), outcome = %s
           WHERE id = %s RETURNING *""", (outcome, by, note, alert_id)), alert_id)


def verify_second(conn: Connection, alert_id: uuid.UUID, verdict: str, by: str) -> DictRow:
    """The second verifier's own assessment (issue 28 item 2); the trigger checks who and when."""
    return _updated(_one(
        conn,
        """UPDATE alerts SET second_status = %s, second_by = %s, second_at = now()
           WHERE id = %s RETURNING *""", (verdict, by, alert_id)), alert_id)


def two_person(conn: Connection, deployment_id: uuid.UUID | str) -> bool:
    """Whether the deployment's pack requires two-person verification (public.lfr_two_person)."""
    row = _one(conn, "SELECT public.lfr_two_person(%s) AS two", (str(deployment_id),))
    return bool(row and row["two"])


def clear_decision(conn: Connection, alert_id: uuid.UUID) -> DictRow:
    return _updated(_one(
        conn,
        """UPDATE alerts SET status = %s, adjudicated_by = NULL, adjudicated_at = NULL, outcome = NULL
           WHERE id = %s RETURNING *""", (AlertStatus.PENDING, alert_id)), alert_id)


def record_engagement(conn: Connection, alert_id: uuid.UUID, engagement: str, disposal: str | None, by: str,
                      note: str | None) -> DictRow:
    return _updated(_one(
        conn,
        """UPDATE alerts SET engagement = %s, disposal = %s, engagement_by = %s, engagement_at = now(),
                             engagement_note = %s
           WHERE id = %s RETURNING *""", (engagement, disposal, by, note, alert_id)), alert_id)


def set_legal_hold(conn: Connection, alert_id: uuid.UUID, hold: bool) -> DictRow:
    return _updated(_one(conn, "UPDATE alerts SET legal_hold = %s WHERE id = %s RETURNING *",
                             (hold, alert_id)), alert_id)


def forget_watchlist_image(conn: Connection, watchlist_image_uri: str) -> None:
    """The watchlist image is deleted: no alert shows it any more."""
    conn.execute("UPDATE alerts SET watchlist_image_uri = NULL WHERE watchlist_image_uri = %s", (watchlist_image_uri,))


def _updated(row: DictRow | None, alert_id: uuid.UUID) -> DictRow:
    if row is None:  # the caller locked it in this transaction
        raise LookupError(f"alert {alert_id} is gone")
    return row


# Retention


# Each alert's retention in days: its deployment's pack's (retention.alerts_days), else the setting passed as
# %(fallback)s for a deployment planned before packs existed.
_RETENTION_DAYS = """coalesce((SELECT (p.content -> 'retention' ->> 'alerts_days')::integer FROM deployments d
                               JOIN policy_packs p ON p.name = d.policy_name AND p.version = d.policy_version
                               WHERE d.id = alerts.deployment_id), %(fallback)s)"""


def expired_alerts(conn: Connection, now: datetime, fallback_days: int) -> list[DictRow]:
    """Alerts past their deployment's retention at `now` and not on legal hold, locked for their deletion, each
    with the retention that applied (`retention_days`)."""
    return _all(
        conn,
        f"""SELECT id, deployment_id, version_id, probe_crop_uri, watchlist_image_uri,
                   {_RETENTION_DAYS} AS retention_days FROM alerts
            WHERE raised_at < %(now)s - make_interval(days => {_RETENTION_DAYS}) AND NOT legal_hold
            FOR UPDATE""", {"now": now, "fallback": fallback_days})


def held_past_retention(conn: Connection, now: datetime, fallback_days: int) -> int:
    """Alerts past their deployment's retention at `now` kept by a legal hold."""
    row = _one(conn, f"""SELECT count(*) AS n FROM alerts
                         WHERE raised_at < %(now)s - make_interval(days => {_RETENTION_DAYS}) AND legal_hold""",
               {"now": now, "fallback": fallback_days})
    assert row is not None
    return int(row["n"])


def delete_alerts(conn: Connection, alert_ids: Sequence[uuid.UUID]) -> int:
    return conn.execute("DELETE FROM alerts WHERE id = ANY(%s)", (list(alert_ids),)).rowcount


# Counters


def add_counts(conn: Connection, deployment_id: uuid.UUID | str, camera_id: str, *, frames: int, faces_seen: int,
               frames_refused: int, frames_dropped: int, bands: FaceBands, reliable_face_px: int | None,
               frames_not_sent: int = 0) -> None:
    """Add to a camera's running totals; the reliable size the bands were counted against replaces the last one
    (none given: the last one stays)."""
    conn.execute(
        """INSERT INTO deployment_counters (deployment_id, camera_id, frames, faces_seen, frames_refused,
                                            frames_dropped, faces_refused_small, faces_refused_other,
                                            faces_below_reliable, faces_reliable, reliable_face_px, frames_not_sent)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (deployment_id, camera_id) DO UPDATE SET
             frames = deployment_counters.frames + EXCLUDED.frames,
             faces_seen = deployment_counters.faces_seen + EXCLUDED.faces_seen,
             frames_refused = deployment_counters.frames_refused + EXCLUDED.frames_refused,
             frames_dropped = deployment_counters.frames_dropped + EXCLUDED.frames_dropped,
             faces_refused_small = deployment_counters.faces_refused_small + EXCLUDED.faces_refused_small,
             faces_refused_other = deployment_counters.faces_refused_other + EXCLUDED.faces_refused_other,
             faces_below_reliable = deployment_counters.faces_below_reliable + EXCLUDED.faces_below_reliable,
             faces_reliable = deployment_counters.faces_reliable + EXCLUDED.faces_reliable,
             reliable_face_px = coalesce(EXCLUDED.reliable_face_px, deployment_counters.reliable_face_px),
             frames_not_sent = deployment_counters.frames_not_sent + EXCLUDED.frames_not_sent,
             updated_at = now()""",
        (str(deployment_id), camera_id, frames, faces_seen, frames_refused, frames_dropped, bands.refused_small,
         bands.refused_other, bands.below_reliable, bands.reliable, reliable_face_px, frames_not_sent))


def cameras(conn: Connection, deployment_id: uuid.UUID) -> list[DictRow]:
    """Each camera's running totals and when they last moved."""
    return _all(
        conn,
        """SELECT camera_id, frames, faces_seen, frames_refused, frames_dropped, faces_refused_small,
                  faces_refused_other, faces_below_reliable, faces_reliable, reliable_face_px, frames_not_sent,
                  updated_at AS last_frame_at
           FROM deployment_counters WHERE deployment_id = %s ORDER BY camera_id""", (deployment_id,))


# Reports: counts only, never a subject.


def camera_totals(conn: Connection, deployment_id: uuid.UUID) -> CameraTotals:
    with conn.cursor(row_factory=class_row(CameraTotals)) as cur:
        row = cur.execute(
            """SELECT count(*)::int AS cameras, coalesce(sum(frames), 0)::bigint AS frames,
                      coalesce(sum(faces_seen), 0)::bigint AS faces_seen,
                      coalesce(sum(frames_refused), 0)::bigint AS frames_refused,
                      coalesce(sum(faces_refused_small), 0)::bigint AS faces_refused_small,
                      coalesce(sum(faces_refused_other), 0)::bigint AS faces_refused_other,
                      coalesce(sum(faces_below_reliable), 0)::bigint AS faces_below_reliable,
                      coalesce(sum(faces_reliable), 0)::bigint AS faces_reliable,
                      coalesce(array_agg(DISTINCT reliable_face_px ORDER BY reliable_face_px)
                               FILTER (WHERE reliable_face_px IS NOT NULL), '{}') AS reliable_face_px
               FROM deployment_counters WHERE deployment_id = %s""", (deployment_id,)).fetchone()
    assert row is not None
    return row


def count_by_status(conn: Connection, deployment_id: uuid.UUID) -> dict[str, int]:
    rows = _all(conn, "SELECT status, count(*) AS n FROM alerts WHERE deployment_id = %s GROUP BY status",
                        (deployment_id,))
    return {r["status"]: int(r["n"]) for r in rows}


def count_by_category(conn: Connection, deployment_id: uuid.UUID) -> list[CategoryCount]:
    with conn.cursor(row_factory=class_row(CategoryCount)) as cur:
        return cur.execute(
            """SELECT category, count(*)::int AS alerts, count(*) FILTER (WHERE status = 'confirmed')::int AS confirmed,
                      count(*) FILTER (WHERE status = 'declined')::int AS declined
               FROM alerts WHERE deployment_id = %s GROUP BY category ORDER BY category""", (deployment_id,)).fetchall()


def count_by_engagement(conn: Connection, deployment_id: uuid.UUID) -> dict[str, int]:
    rows = _all(conn, """SELECT engagement, count(*) AS n FROM alerts WHERE deployment_id = %s
                           AND engagement IS NOT NULL GROUP BY engagement""", (deployment_id,))
    return {r["engagement"]: int(r["n"]) for r in rows}


def count_by_disposal(conn: Connection, deployment_id: uuid.UUID) -> dict[str, int]:
    rows = _all(conn, """SELECT disposal, count(*) AS n FROM alerts WHERE deployment_id = %s
                           AND disposal IS NOT NULL GROUP BY disposal""", (deployment_id,))
    return {r["disposal"]: int(r["n"]) for r in rows}


def decisions(conn: Connection, deployment_id: uuid.UUID | str) -> dict[str, dict[str, Any]]:
    """Each stored alert of a deployment (by id, as text): its status, engagement result and outcome."""
    rows = _all(conn, "SELECT id, status, engagement, disposal, second_status FROM alerts WHERE deployment_id = %s",
                        (str(deployment_id),))
    return {str(r["id"]): {"status": r["status"], "engagement": r["engagement"], "disposal": r["disposal"],
                           "second_status": r["second_status"]} for r in rows}


def logged_decisions(conn: Connection, deployment_id: str, outcomes: Sequence[str]) -> list[tuple[str, str, str | None]]:
    """(alert id, action, outcome of an engagement) of every raise, decision (one of `outcomes`), undo, second
    verification and engagement of the deployment's alerts, from the audit log in chain order: retention deletes an alert's row,
    never its record."""
    with conn.cursor(row_factory=tuple_row) as cur:
        return cur.execute(
            """SELECT object_id, action, details->>'disposal' FROM audit.audit_log
               WHERE object_type = 'alert' AND details->>'deployment_id' = %s
                 AND (action IN ('alert.raise', 'alert.undone') OR action = ANY(%s)
                      OR action LIKE 'alert.engagement.%%' OR action LIKE 'alert.second.%%')
               ORDER BY seq""", (deployment_id, [f"alert.{o}" for o in outcomes])).fetchall()


def settled_report_deployments(conn: Connection) -> list[uuid.UUID]:
    """Deployments whose published report was provisional and that have no alert left awaiting a decision (or, under
    two-person verification, its second verifier)."""
    rows = _all(
        conn,
        """SELECT d.id FROM deployments d WHERE d.report_pending_alerts > 0 AND NOT EXISTS
             (SELECT 1 FROM alerts a WHERE a.deployment_id = d.id AND (a.status = 'pending'
                     OR (a.second_status IS NULL AND public.lfr_two_person(a.deployment_id))))""")
    return [r["id"] for r in rows]


# Post-deployment reviews (issue 28 item 5)


def assign_review(conn: Connection, alert_id: uuid.UUID, deployment_id: uuid.UUID, alert_class: str, reviewer: str,
                  by: str) -> DictRow:
    row = _one(conn, """INSERT INTO alert_reviews (alert_id, deployment_id, alert_class, reviewer, assigned_by)
                        VALUES (%s, %s, %s, %s, %s) RETURNING *""",
               (alert_id, deployment_id, alert_class, reviewer, by))
    assert row is not None  # an insert returns its row
    return row


def record_finding(conn: Connection, alert_id: uuid.UUID, finding: str) -> DictRow | None:
    """None when the acting person may not see the review (it is someone else's)."""
    return _one(conn, """UPDATE alert_reviews SET finding = %s, reviewed_at = now() WHERE alert_id = %s
                         RETURNING *""", (finding, alert_id))


def review(conn: Connection, alert_id: AlertId) -> DictRow | None:
    return _one(conn, "SELECT * FROM alert_reviews WHERE alert_id = %s", (str(alert_id),))


def reviews(conn: Connection, deployment_id: uuid.UUID | str) -> list[DictRow]:
    return _all(conn, "SELECT * FROM alert_reviews WHERE deployment_id = %s ORDER BY assigned_at, alert_id",
                (str(deployment_id),))


def decided_without_review(conn: Connection, deployment_id: uuid.UUID | str) -> list[DictRow]:
    """A deployment's decided alerts that have no review yet (id, status, engagement), oldest first."""
    return _all(conn, """SELECT a.id, a.status, a.engagement FROM alerts a
                         WHERE a.deployment_id = %s AND a.status <> 'pending'
                           AND NOT EXISTS (SELECT 1 FROM alert_reviews r WHERE r.alert_id = a.id)
                         ORDER BY a.raised_at, a.id""", (str(deployment_id),))


def open_reviews_of(conn: Connection, reviewer: str) -> list[DictRow]:
    """The reviews assigned to `reviewer` with no finding yet, with the alert's facts where the acting person may
    see the alert (no subject named: the review screen needs the decision, not the person)."""
    return _all(conn, """SELECT r.alert_id, r.deployment_id, r.alert_class, r.assigned_by, r.assigned_at,
                                a.category, a.score, a.camera_id, a.captured_at, a.status, a.engagement, a.disposal
                         FROM alert_reviews r LEFT JOIN alerts a ON a.id = r.alert_id
                         WHERE r.reviewer = %s AND r.finding IS NULL ORDER BY r.assigned_at, r.alert_id""",
                (reviewer,))


def pending_alert_images(conn: Connection, version_id: uuid.UUID) -> list[DictRow]:
    """(id, watchlist_image_uri) of the version's alerts that await a decision and show a watchlist image.

    The purge (lfr_core/workflow/purge.py) keeps these images until the alerts are decided."""
    return _all(conn, """SELECT id, watchlist_image_uri FROM alerts WHERE version_id = %s AND status = 'pending'
                           AND watchlist_image_uri IS NOT NULL ORDER BY raised_at""", (version_id,))


def kept_alert_images(conn: Connection, alert_ids: Sequence[str]) -> list[str]:
    """The watchlist images the named alerts still hold (a released one is NULL)."""
    rows = _all(conn, """SELECT watchlist_image_uri FROM alerts WHERE id = ANY(%s::uuid[])
                           AND watchlist_image_uri IS NOT NULL""", (list(alert_ids),))
    return [r["watchlist_image_uri"] for r in rows]
