"""Rows inserted straight into the database, for states the public functions refuse to create (windows
in the past, a list active outside its window). The platform's rules (lfr_core/db/policy/) refuse them
to every login of the platform, so they are written, and committed at once, as the database administrator.
The `conn` argument is the test's connection, kept so that callers read as before."""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from lfr_core.config import get_settings
from lfr_core.db.connection import admin_dsn


def _write(query: str, params: tuple) -> dict | None:
    """One statement as the database administrator, committed; the first row it returns, if any."""
    with psycopg.connect(admin_dsn(get_settings()), row_factory=dict_row, autocommit=True) as admin:
        cursor = admin.execute(query, params)
        return cursor.fetchone() if cursor.description else None


def insert_deployment(conn, *, window_start: datetime, window_end: datetime, status: str = "planned",
                      place: str = "Rows Street") -> uuid.UUID:
    return _write(
        """INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                    authorising_officer, allowed_categories, threshold, created_by, status)
           VALUES (%s, 'test purpose', 'test basis', %s, %s, %s, 'Supt Rows', %s, 0.363, 'pc-rows', %s)
           RETURNING id""",
        (place, f"INT-{uuid.uuid4().hex[:8]}", window_start, window_end, ["wanted_by_court"], status),
    )["id"]


def insert_version(conn, deployment_id, *, state: str, accepted: int = 0, rejected: int = 0,
                   activated_at: datetime | None = None, number: int = 1) -> uuid.UUID:
    version_id = uuid.uuid4()
    _write(
        """INSERT INTO watchlist_versions (id, deployment_id, version, state, built_by, manifest_uri, manifest_sha256,
                 detector, embedder, embedder_sha256, embedding_dim, threshold, entries_total, entries_accepted,
                 entries_rejected, approved_by, activated_at)
           VALUES (%s, %s, %s, %s, 'pc-rows', 's3://lfr-sources/manifests/rows.csv', 'm-sha', %s, %s, 'e-sha', 128,
                   0.363, %s, %s, %s, 'supt-rows', %s)""",
        (version_id, deployment_id, number, state, Jsonb({"name": "yunet"}), Jsonb({"name": "sface"}), accepted + rejected,
         accepted, rejected, activated_at),
    )
    for i in range(accepted + rejected):
        status = "accepted" if i < accepted else "rejected"
        _write(
            """INSERT INTO watchlist_entries (version_id, subject_ref, category, rationale, provenance, source_uri,
                                              status, reason)
               VALUES (%s, %s, 'wanted_by_court', 'warrant', 'custody', 's3://lfr-sources/x.jpg', %s, %s)""",
            (version_id, f"ROW-{i:03d}", status, None if status == "accepted" else "no face found"),
        )
    return version_id


def insert_alert(conn, deployment_id, version_id, *, status: str = "pending", raised_at: datetime | None = None,
                 legal_hold: bool = False, probe_crop_uri: str | None = None, engagement: str | None = None,
                 disposal: str | None = None) -> uuid.UUID:
    return _write(
        """INSERT INTO alerts (deployment_id, version_id, subject_ref, category, score, camera_id, track_id,
                               captured_at, raised_at, status, legal_hold, probe_crop_uri, engagement, disposal)
           VALUES (%s, %s, 'ROW-000', 'wanted_by_court', 0.5, 'cam-1', 't-1', coalesce(%s, now()),
                   coalesce(%s, now()), %s, %s, %s, %s, %s) RETURNING id""",
        (deployment_id, version_id, raised_at, raised_at, status, legal_hold, probe_crop_uri, engagement, disposal),
    )["id"]
