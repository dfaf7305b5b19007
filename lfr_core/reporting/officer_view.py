"""What the operator console shows an officer of a live deployment: their deployments, its dashboard, its
camera tiles and the face box of a matched watchlist image. Numbers about faces only, never a face of a
passer-by; each function runs on the caller's connection, as the signed-in person where it reads alerts
(row-level security decides what they see)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.alerts import queries as alerts_queries
from lfr_core.deployments import queries as deployments_queries
from lfr_core.reporting import reports
from lfr_core.reporting.model import Dashboard
from lfr_core.watchlist import queries as watchlist_queries

BOX_KEYS = ("box_x1", "box_y1", "box_x2", "box_y2")


def my_deployments(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The deployments the acting officer is assigned to (an admin or auditor: all), newest window first;
    the same test as `deployments.visible`."""
    return deployments_queries.assigned_deployments(conn)


# A camera's tile warns only once it has seen this many faces counted by size: a handful of faces says little
# about where a camera points (one passer-by at the far end of a street would make "most").
TOO_FAR_MIN_FACES = 20


def cameras(conn: psycopg.Connection, deployment_id: uuid.UUID) -> list[dict[str, Any]]:
    """Each camera's running totals and when they last moved (counters are flushed every few seconds), with how
    many of its faces were narrower than the reliable size and the tile's warning when most were."""
    return [camera_tile(r) for r in alerts_queries.cameras(conn, deployment_id)]


def camera_tile(row: dict[str, Any]) -> dict[str, Any]:
    """A camera's counters as its tile shows them (issue 32 item 4): faces that could have been recognised, faces
    narrower than the reliable size (refused by the gate for it or admitted below it), and "camera too far or too
    wide" when most of its faces were narrower."""
    small = row["faces_refused_small"] + row["faces_below_reliable"]
    banded = small + row["faces_refused_other"] + row["faces_reliable"]
    size = row["reliable_face_px"]
    warning = (f"camera too far or too wide: {small} of {banded} faces narrower than {size} px, the reliable size"
               if banded >= TOO_FAR_MIN_FACES and 2 * small > banded else None)
    return {**row, "faces_small": small, "faces_banded": banded, "warning": warning}


def dashboard(conn: psycopg.Connection, deployment_id: uuid.UUID, *, now: datetime | None = None) -> Dashboard:
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
        "live_gate": report["planning"]["live_gate"],
        "camera_ranges": [f"{c['name']}: {c['max_distance_m']:.2f} m at {c['face_px']} px"
                          for c in report["planning"]["cameras"]],
    }


def watchlist_face_box(conn: psycopg.Connection, alert: dict[str, Any]) -> list[float] | None:
    """The face box of the watchlist image an alert matched, as the build found it (entries outlive a
    purge); None for an entry built before boxes were kept."""
    quality = watchlist_queries.matched_entry_quality(conn, alert["version_id"], alert["subject_ref"],
                                                      alert["watchlist_image_uri"]) or {}
    return [float(quality[k]) for k in BOX_KEYS] if all(k in quality for k in BOX_KEYS) else None

