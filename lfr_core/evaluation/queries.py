"""The evaluation context's SQL (issue 26 item 1): the only module that reads or writes model_calibrations and
model_condition_curves. Each function asks one thing and returns records or scalars; a write runs inside the
caller's transaction (`acting`)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import class_row, dict_row, scalar_row
from psycopg.types.json import Jsonb

from lfr_core.evaluation.impostor import ImpostorTail, upper_bound
from lfr_core.evaluation.model import (
    Calibration,
    CalibrationWithSearches,
    ConditionCurve,
    RecordedConditionCurve,
)


def insert_calibration(conn: psycopg.Connection[Any], *, embedder_sha256: str, detector_sha256: str,
                       model: dict[str, Any], manifest: str, n_gallery: int, nonmated_top_scores: list[float],
                       summary: dict[str, Any], recorded_by: str, group_by: str | None,
                       searches: list[list[Any]] | None, enrolments: list[list[Any]] | None,
                       impostor: ImpostorTail | None = None) -> int:
    """The new calibration's id."""
    with conn.cursor(row_factory=scalar_row) as cur:
        new_id = cur.execute(
            """INSERT INTO model_calibrations (embedder_sha256, detector_sha256, model, manifest, n_gallery,
                                               nonmated_top_scores, summary, recorded_by, group_by, searches,
                                               enrolments, impostor_pairs, impostor_tail)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (embedder_sha256, detector_sha256, Jsonb(model), manifest, n_gallery, nonmated_top_scores,
             Jsonb(summary), recorded_by, group_by, None if searches is None else Jsonb(searches),
             None if enrolments is None else Jsonb(enrolments), None if impostor is None else impostor.pairs,
             None if impostor is None else Jsonb(impostor.to_json()["points"])),
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


def latest_impostor_tail(conn: psycopg.Connection[Any], embedder_sha256: str) -> tuple[int, ImpostorTail] | None:
    """The embedder's latest calibration that recorded an impostor tail, as (calibration id, tail); None when
    none did."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """SELECT id, impostor_pairs, impostor_tail FROM model_calibrations
               WHERE embedder_sha256 = %s AND impostor_tail IS NOT NULL
               ORDER BY recorded_at DESC, id DESC LIMIT 1""", (embedder_sha256,)).fetchone()
    if row is None:
        return None
    pairs = int(row["impostor_pairs"])
    return int(row["id"]), ImpostorTail.from_json({"pairs": pairs, "resolvable": upper_bound(0, pairs),
                                                   "points": row["impostor_tail"]})


def latest_calibration_with_searches(conn: psycopg.Connection[Any],
                                     embedder_sha256: str) -> CalibrationWithSearches | None:
    """The embedder's latest calibration that recorded its searches; None when there is none."""
    with conn.cursor(row_factory=class_row(CalibrationWithSearches)) as cur:
        return cur.execute(
            """SELECT id, manifest, recorded_at, n_gallery, nonmated_top_scores, group_by, searches, enrolments
               FROM model_calibrations WHERE embedder_sha256 = %s AND searches IS NOT NULL
               ORDER BY recorded_at DESC, id DESC LIMIT 1""", (embedder_sha256,)).fetchone()


def insert_condition_curve(conn: psycopg.Connection[Any], curve: ConditionCurve, *, recorded_by: str,
                           calibration_id: int | None) -> int:
    """The new curve's id: the model's identity in columns (and whole in `model`, as a calibration keeps it), the
    protocol in columns and the points as JSON."""
    e = curve.embedder
    with conn.cursor(row_factory=scalar_row) as cur:
        new_id = cur.execute(
            """INSERT INTO model_condition_curves (
                   embedder_name, embedder_version, embedder_sha256, embedding_dim, detector_sha256, model,
                   calibration_id, manifest, seed, frame_width, frame_height, target_fpir, operating_threshold,
                   threshold_source, group_by, bootstrap, points, recorded_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            (e.name, e.version, e.weights_sha256, e.embedding_dim, curve.detector.weights_sha256,
             Jsonb({"embedder": e.as_dict(), "detector": curve.detector.as_dict()}), calibration_id, curve.manifest,
             curve.seed, curve.frame_width, curve.frame_height, curve.target_fpir, curve.operating_threshold,
             curve.threshold_source, curve.group_by, curve.bootstrap, Jsonb(curve.to_json()["points"]), recorded_by),
        ).fetchone()
    assert new_id is not None  # RETURNING gives the new row
    return int(new_id)


def latest_condition_curve(conn: psycopg.Connection[Any], embedder_sha256: str) -> RecordedConditionCurve | None:
    """The embedder's latest recorded curve; None when none was recorded."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            """SELECT id, recorded_at, recorded_by, calibration_id, model, manifest, seed, frame_width, frame_height,
                      target_fpir, operating_threshold, threshold_source, group_by, bootstrap, points
               FROM model_condition_curves WHERE embedder_sha256 = %s
               ORDER BY recorded_at DESC, id DESC LIMIT 1""", (embedder_sha256,)).fetchone()
    if row is None:
        return None
    model = row.pop("model")
    meta = {k: row.pop(k) for k in ("id", "recorded_at", "recorded_by", "calibration_id")}
    curve = ConditionCurve.from_json({**row, "embedder": model["embedder"], "detector": model["detector"]})
    return RecordedConditionCurve(curve=curve, **meta)


def calibration_by_id(conn: psycopg.Connection[Any], calibration_id: int) -> dict[str, Any] | None:
    """One recorded calibration (an evaluation named by a threshold decision) with its searches; None if absent."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT id, embedder_sha256, model, manifest, recorded_at, n_gallery, nonmated_top_scores, summary,
                      group_by, searches, enrolments
               FROM model_calibrations WHERE id = %s""", (calibration_id,)).fetchone()


def equitability_verdicts(conn: psycopg.Connection[Any], embedder_sha256: str) -> list[dict[str, Any]]:
    """Every recorded equitability verdict of this embedder (calibration id, threshold, the verdict), oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT id, summary -> 'equitability' AS verdict FROM model_calibrations
               WHERE embedder_sha256 = %s AND summary ? 'equitability' ORDER BY recorded_at, id""",
            (embedder_sha256,)).fetchall()
