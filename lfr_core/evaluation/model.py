"""The records of recorded calibrations (lfr_core/evaluation/calibration.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Calibration:
    """A model's latest calibration, as a threshold or a projection of false alerts reads it: the non-mated top
    scores (numbers, never templates) against a gallery of `n_gallery` enrolled identities."""

    id: int
    manifest: str
    recorded_at: datetime
    n_gallery: int
    nonmated_top_scores: list[float]


@dataclass(frozen=True)
class CalibrationWithSearches(Calibration):
    """A calibration that kept its pseudonymised searches and enrolments, for per-group error rates."""

    group_by: str | None
    searches: list[list[Any]]
    enrolments: list[list[Any]] | None
