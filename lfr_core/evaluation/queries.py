"""The evaluation context's SQL (issue 26 item 1): the only module that reads or writes model_calibrations. Each
function asks one thing and returns records or scalars; a write runs inside the caller's transaction (`acting`)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from lfr_core.evaluation.model import Calibration, CalibrationWithSearches


def insert_calibration(conn: psycopg.Connection[Any], *, embedder_sha256: str, detector_sha256: str,
                       model: dict[str, Any], manifest: str, n_gallery: int, nonmated_top_scores: list[float],
                       summary: dict[str, Any], recorded_by: str, group_by: str | None,
                       searches: list[list[Any]] | None, enrolments: list[list[Any]] | None) -> int:
    """The new calibration's id."""
    with conn.cursor(row_factory=scalar_row) as cur:
        new_id = cur.execute(
            """INSERT INTO model_calibrations (embedder_sha256, detector_sha256, model, manifest, n_gallery,
                                               nonmated_top_scores, summary, recorded_by, group_by, searches,
                                               enrolments)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (embedder_sha256, detector_sha256, Jsonb(model), manifest, n_gallery, nonmated_top_scores,
             Jsonb(summary), recorded_by, group_by, None if searches is None else Jsonb(searches),
             None if enrolments is None else Jsonb(enrolments)),
        ).fetchone()
    assert new_id is not None  # RETURNING gives the new row
    return int(new_id)


def latest_calibration(conn: psycopg.Connection[Any], embedder_sha256: str) -> Calibration | None:
    """The embedder's latest calibration; None when it was never calibrated."""
    with conn.cursor(row_factory=class_row(Calibration)) as cur:
        return cur.execute(
            """SELECT id, manifest, recorded_at, n_gallery, nonmated_top_scores FROM model_calibrations
               WHERE embedder_sha256 = %s ORDER BY recorded_at DESC, id DESC LIMIT 1""",
            (embedder_sha256,),
        ).fetchone()


def latest_calibration_with_searches(conn: psycopg.Connection[Any],
                                     embedder_sha256: str) -> CalibrationWithSearches | None:
    """The embedder's latest calibration that recorded its searches; None when there is none."""
    with conn.cursor(row_factory=class_row(CalibrationWithSearches)) as cur:
        return cur.execute(
            """SELECT id, manifest, recorded_at, n_gallery, nonmated_top_scores, group_by, searches, enrolments
               FROM model_calibrations WHERE embedder_sha256 = %s AND searches IS NOT NULL
               ORDER BY recorded_at DESC, id DESC LIMIT 1""", (embedder_sha256,)).fetchone()
