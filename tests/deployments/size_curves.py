"""A scripted size curve for the session's model, recorded for a test and removed after it, so that later tests
build their lists against the curves they expect (the latest recorded curve sets a new list's live gate)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from lfr_core.evaluation import conditions
from lfr_core.evaluation.model import Condition, ConditionCurve, ConditionPoint, Rate
from tests.conftest import ADMIN
from tests.security.conftest import superuser

NO_RATE = Rate(None, None, None)


def _point(face_px: int | None, fnir_high: float) -> ConditionPoint:
    fnir = Rate(fnir_high / 2, 0.0, fnir_high)
    return ConditionPoint(
        condition=Condition(face_px, None if face_px is None else 80, 0.0), n_mated=100, n_nonmated=50,
        face_px_median=face_px, fnir=fnir, tpir=fnir.complement(), fpir=Rate(0.01, 0.0, 0.03), rank1=fnir.complement(),
        calibrated_threshold=None, calibrated_sufficient=False, fnir_at_target=NO_RATE, tpir_at_target=NO_RATE,
        fpir_at_target=NO_RATE, refused=Rate(0.0, 0.0, 0.0), refused_probes=0, refusals=(), groups=(),
        fnir_verdict=None, fnir_flagged=False, fpir_verdict=None, fpir_flagged=False)


def scripted_curve(engine, highs: dict[int | None, float]) -> ConditionCurve:
    """FNIR's upper bound at each size (None: as photographed)."""
    return ConditionCurve(
        embedder=engine.embedder.identity, detector=engine.detector.identity, manifest="scripted.csv", seed=0,
        frame_width=640, frame_height=360, target_fpir=0.01, operating_threshold=0.449, threshold_source="scripted",
        group_by="", bootstrap="scripted",
        points=tuple(_point(px, h) for px, h in sorted(highs.items(), key=lambda kv: -(kv[0] or 10_000))))


@contextmanager
def recorded(db, settings, engine, highs: dict[int | None, float]) -> Iterator[int]:
    """The scripted curve recorded as the session model's latest while the block runs; its id."""
    curve_id = conditions.record(db, scripted_curve(engine, highs), ADMIN)
    try:
        yield curve_id
    finally:
        with superuser(settings) as conn:
            conn.execute("DELETE FROM model_condition_curves WHERE id = %s", (curve_id,))
