"""Recorded equitability evaluations for the threshold tests (issue 27 item 4): two groups with the same
synthetic scores (numbers and pseudonymous indices only, as `lfr eval --record` keeps them), written as the
database administrator so each test picks the model, the verdict's threshold and its flag."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from lfr_core.db.connection import admin_dsn

MATED = (0.70, 0.62, 0.55, 0.42)  # per enrolled identity, two searches each: FNIR rises between 0.40 and 0.45
NONMATED = (0.32, 0.37, 0.41, 0.47)  # per held-out identity: FPIR falls from 0.35 to 0.45


def searches() -> tuple[list[list], list[list], list[float]]:
    rows: list[list] = []
    enrolments: list[list] = []
    nonmated: list[float] = []
    index = 0
    for group in ("a", "b"):
        for score in MATED:
            rows += [[index, group, True, score, True], [index, group, True, score - 0.01, True]]
            enrolments.append([index, group, True])
            index += 1
        for score in NONMATED:
            rows += [[index, group, False, score, False], [index, group, False, score - 0.02, False]]
            nonmated += [score, score - 0.02]
            index += 1
    return rows, enrolments, nonmated


def an_evaluation(settings, embedder_sha256: str, *, verdict_at: float, flagged: bool = False, tested: bool = True,
                  model: str = "sface") -> int:
    """A recorded calibration whose equitability verdict at `verdict_at` is `flagged` or not (`tested`: whether its
    groups had identities enough to compare)."""
    rows, enrolments, nonmated = searches()
    verdict = {"group_by": "group", "threshold": verdict_at,
               "ratios": {"fnir": {"flag": False, "testable": tested}, "fpir": {"flag": flagged, "testable": tested}}}
    with psycopg.connect(admin_dsn(settings), autocommit=True) as conn:
        row = conn.execute(
            """INSERT INTO model_calibrations (embedder_sha256, detector_sha256, model, manifest, n_gallery,
                   nonmated_top_scores, summary, recorded_by, group_by, searches, enrolments)
               VALUES (%s, 'd', %s, 's3://lfr-sources/eval.csv', 8, %s, %s, 'ada.admin', 'group', %s, %s)
               RETURNING id""",
            (embedder_sha256, Jsonb({"embedder": {"name": model, "weights_sha256": embedder_sha256},
                                     "detector": {"name": "yunet", "weights_sha256": "d"}}),
             nonmated, Jsonb({"equitability": verdict}), Jsonb(rows), Jsonb(enrolments))).fetchone()
    assert row is not None
    return int(row[0])
