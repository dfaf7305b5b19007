"""What the operator console shows an officer of a live deployment: their deployments, its dashboard, its
camera tiles and the face box of a matched watchlist image. Numbers about faces only, never a face of a
passer-by; each function runs on the caller's connection, as the signed-in person where it reads alerts
(row-level security decides what they see)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.reporting import reports

BOX_KEYS = ("box_x1", "box_y1", "box_x2", "box_y2")


def my_deployments(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The deployments the acting officer is assigned to (an admin or auditor: all), newest window first;
    the same test as `deployments.visible`."""
    return conn.execute(
        """SELECT id, place, window_start, window_end, status FROM deployments
           WHERE public.lfr_holds('admin', 'auditor') OR public.lfr_assigned(id, 'operator')
           ORDER BY window_start DESC LIMIT 100""").fetchall()


def cameras(conn: psycopg.Connection, deployment_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each camera's running totals and when they last moved (counters are flushed every few seconds)."""
    return conn.execute(
        """SELECT camera_id, frames, faces_seen, frames_refused, frames_dropped, updated_at AS last_frame_at
           FROM deployment_counters WHERE deployment_id = %s ORDER BY camera_id""", (deployment_id,)).fetchall()


def dashboard(conn: psycopg.Connection, deployment_id: uuid.UUID, *, now: datetime | None = None) -> dict[str, Any]:
    """The window, the live list, and the counts so far: faces seen, alerts, true and false, outcomes, and
    false alerts per face seen against the projection for this list's size and model."""
    report = reports.build_report(conn, str(deployment_id))
    now = now or datetime.now(UTC)
    dep = report["deployment"]
    active = next((v for v in report["watchlist"]["versions"] if v["state"] == "active"), None)
    faces = report["traffic"]["faces_seen"]
    alerts = report["alerts"]
    return {
        "deployment_id": dep["id"], "place": dep["place"], "status": dep["status"],
        "window_start": dep["window_start"], "window_end": dep["window_end"],
        "seconds_to_start": max(0.0, (datetime.fromisoformat(dep["window_start"]) - now).total_seconds()),
        "seconds_to_end": max(0.0, (datetime.fromisoformat(dep["window_end"]) - now).total_seconds()),
        "version": active["version"] if active else None,
        "threshold": dep["threshold"], "watchlist_size": report["watchlist"]["size"],
        "faces_seen": faces, "alerts": alerts["total"], "pending": alerts["pending"],
        "true_alerts": alerts["true_alerts"], "false_alerts": alerts["false_alerts"],
        "not_engaged": alerts["not_engaged"], "engagement_outcomes": alerts["engagement_outcomes"],
        "false_alerts_per_face": alerts["false_alerts"] / faces if faces else None,
        "projected_false_alerts_per_face": report["false_alerts"]["projected_fpir_at_watchlist"],
        "projection_source": report["false_alerts"]["projection_source"],
    }


def watchlist_face_box(conn: psycopg.Connection, alert: dict[str, Any]) -> list[float] | None:
    """The face box of the watchlist image an alert matched, as the build found it (entries outlive a
    purge); None for an entry built before boxes were kept."""
    row = conn.execute(
        """SELECT quality FROM watchlist_entries WHERE version_id = %s AND subject_ref = %s AND status = 'accepted'
           ORDER BY (image_uri = %s) DESC, image_index LIMIT 1""",
        (alert["version_id"], alert["subject_ref"], alert["watchlist_image_uri"])).fetchone()
    quality = (row or {}).get("quality") or {}
    return [float(quality[k]) for k in BOX_KEYS] if all(k in quality for k in BOX_KEYS) else None

