"""The evaluation's records: recorded calibrations (lfr_core/evaluation/calibration.py) and error rates under
camera conditions (lfr_core/evaluation/conditions.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from lfr_core.vision.types import ModelIdentity


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


# Conditions (lfr_core/evaluation/conditions.py): error rates with each probe seen as a camera would see it.


@dataclass(frozen=True)
class Condition:
    """How a probe is shown to the engine: its face box rescaled to `face_px` wide (None: as photographed, the
    image untouched) and centred in a camera frame, blurred with a Gaussian of `blur_sigma` frame pixels (0:
    none) and JPEG-encoded at `jpeg_quality`."""

    face_px: int | None
    jpeg_quality: int | None
    blur_sigma: float

    @property
    def label(self) -> str:
        if self.face_px is None:
            return "as photographed"
        blur = f", blur {self.blur_sigma:g}" if self.blur_sigma else ""
        return f"{self.face_px} px, JPEG {self.jpeg_quality}{blur}"


@dataclass(frozen=True)
class Rate:
    """A rate with its 95% interval bootstrapped over identities; None where nothing stands behind it."""

    value: float | None
    low: float | None
    high: float | None

    def complement(self) -> Rate:
        """1 - rate (TPIR from FNIR), the interval's ends swapped."""
        return Rate(_flip(self.value), _flip(self.high), _flip(self.low))


def _flip(x: float | None) -> float | None:
    return None if x is None else 1.0 - x


@dataclass(frozen=True)
class Refusals:
    """Probes that yielded no template for one reason (the live gate's, lfr_core/vision/quality.py, or no face
    found, or an unreadable image); a probe with two reasons counts under both."""

    reason: str
    probes: int
    rate: Rate


@dataclass(frozen=True)
class GroupRates:
    """One group's rates at the operating threshold under one condition."""

    group: str
    identities: int
    n_mated: int
    n_nonmated: int
    fnir: Rate
    fpir: Rate
    rank1: Rate


@dataclass(frozen=True)
class ConditionPoint:
    """Every rate `lfr eval --conditions` reports for one condition. At the operating threshold (the one the
    deployment runs at, calibrated on the probes as photographed): FNIR, TPIR, FPIR and rank-1. At the threshold
    recalibrated for the target FPIR on this condition's own non-mated searches (`calibrated_threshold`): FNIR,
    TPIR and the FPIR reached. The gate's refusals by reason, and each group's rates with the equitability
    verdicts (lfr_core/evaluation/groups.py)."""

    condition: Condition
    n_mated: int
    n_nonmated: int
    face_px_median: float | None  # the detected face box's width, median over the probes with a face
    fnir: Rate
    tpir: Rate
    fpir: Rate
    rank1: Rate
    calibrated_threshold: float | None
    calibrated_sufficient: bool
    fnir_at_target: Rate
    tpir_at_target: Rate
    fpir_at_target: Rate
    refused: Rate
    refused_probes: int
    refusals: tuple[Refusals, ...]
    groups: tuple[GroupRates, ...]
    fnir_verdict: str | None
    fnir_flagged: bool
    fpir_verdict: str | None
    fpir_flagged: bool


@dataclass(frozen=True)
class ConditionCurve:
    """Error rates against the conditions a camera imposes, for one model on one manifest; `points[0]` is the
    probes as photographed, the others follow the conditions as asked."""

    embedder: ModelIdentity
    detector: ModelIdentity
    manifest: str
    seed: int
    frame_width: int
    frame_height: int
    target_fpir: float
    operating_threshold: float
    threshold_source: str
    group_by: str
    bootstrap: str
    points: tuple[ConditionPoint, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConditionCurve:
        return cls(**{**data, "embedder": ModelIdentity(**data["embedder"]),
                      "detector": ModelIdentity(**data["detector"]),
                      "points": tuple(_point(p) for p in data["points"])})


def _rate(data: dict[str, Any]) -> Rate:
    return Rate(**data)


def _point(data: dict[str, Any]) -> ConditionPoint:
    rates = {k: _rate(v) for k, v in data.items()
             if k in ("fnir", "tpir", "fpir", "rank1", "fnir_at_target", "tpir_at_target", "fpir_at_target",
                      "refused")}
    return ConditionPoint(**{**data, **rates, "condition": Condition(**data["condition"]),
                             "refusals": tuple(Refusals(r["reason"], r["probes"], _rate(r["rate"]))
                                               for r in data["refusals"]),
                             "groups": tuple(GroupRates(**{**g, "fnir": _rate(g["fnir"]), "fpir": _rate(g["fpir"]),
                                                           "rank1": _rate(g["rank1"])}) for g in data["groups"])})


@dataclass(frozen=True)
class RecordedConditionCurve:
    """A curve as `lfr eval --conditions ... --record` stored it, with the calibration recorded alongside."""

    id: int
    recorded_at: datetime
    recorded_by: str
    calibration_id: int | None
    curve: ConditionCurve


@dataclass(frozen=True)
class ReliableSize:
    """The smallest face size at which a model recognises about as well as on the photographs (issue 32 item 2):
    at `face_px` and every larger size measured, FNIR's 95% upper bound at the operating threshold stays within
    `factor` times the bound as photographed (`full_fnir_high`); `fnir_high` is the bound at `face_px`."""

    face_px: int
    fnir_high: float
    full_fnir_high: float
    factor: float
    operating_threshold: float
    curve_id: int | None

    def source(self) -> str:
        curve = f"the size curve recorded as #{self.curve_id}" if self.curve_id is not None else "a size curve"
        return (f"the reliable size from {curve}: FNIR at most {self.fnir_high:.3f} (95% upper bound) at threshold "
                f"{self.operating_threshold:.3f}, within {self.factor:g} x the {self.full_fnir_high:.3f} as "
                f"photographed")
