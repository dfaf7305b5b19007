"""Error rates under the conditions a camera imposes (issue 32 item 1).

The evaluation's photographs show faces about 90-100 px wide; a street camera sees most faces far smaller, and a
force must know at what size the accuracy it quotes still holds. `lfr eval --conditions size=96,64,48,32,24`
shows every probe (mated and non-mated; the gallery's images stay as they are) as a camera would see it:

1. the photograph rescaled so that its face box (the face the evaluation searched with, else the largest the
   detector found) is L px wide (area resampling when shrinking, as a sensor integrates light; linear when
   enlarging), its centre at the centre of a 640x360 frame of mid grey;
2. blurred with a Gaussian of sigma frame pixels (`blur=`, default none);
3. JPEG-encoded at the quality of `jpeg=` (default 80, the quality the issue's measurement used) and decoded;

and searches it through the live gate. A probe in which the detector found no face as photographed cannot be
rescaled and is counted as refused at every size ("no face found as photographed").

Per condition it reports, each with a 95% interval bootstrapped over identities (lfr_core/evaluation/groups.py):
FNIR, TPIR, FPIR and rank-1 at the operating threshold (the one calibrated on the probes as photographed, or
given: what the deployment runs at); FNIR, TPIR and the FPIR reached at the threshold recalibrated for the
target FPIR on that condition's own non-mated searches (how much of the loss a threshold could buy back); the
probes refused (no template) by reason; and per group of `--group-by` the rates and the equitability verdict.
The first point is the probes as photographed, so each curve carries the figure it is read against.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
import psycopg

from lfr_core.audit import log as audit
from lfr_core.errors import InvalidInput
from lfr_core.evaluation import queries
from lfr_core.evaluation.groups import BOOTSTRAP_REPLICATES, Enrolment, Search, bootstrap_sums, interval95, per_group
from lfr_core.evaluation.metrics import threshold_at_fpir
from lfr_core.evaluation.model import (
    Condition,
    ConditionCurve,
    ConditionPoint,
    GroupRates,
    Rate,
    RecordedConditionCurve,
    Refusals,
    ReliableSize,
)
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.vision.types import ModelIdentity

FRAME_WIDTH, FRAME_HEIGHT = 640, 360
FRAME_GREY = 128
DEFAULT_JPEG_QUALITY = 80
AS_PHOTOGRAPHED = Condition(face_px=None, jpeg_quality=None, blur_sigma=0.0)
NO_FACE_AS_PHOTOGRAPHED = "no face found as photographed"
_ALL = "all"
_BOUNDS: dict[str, tuple[float, float]] = {"size": (8, 1024), "jpeg": (1, 100), "blur": (0.0, 20.0)}


def parse_conditions(specs: Sequence[str]) -> tuple[Condition, ...]:
    """Conditions from `size=96,64,48` with optional `jpeg=80` and `blur=0,1.5`, given as one string (parts
    separated by ';' or spaces) or as several; every combination of the values, in the order given."""
    values: dict[str, list[str]] = {}
    for part in (p for spec in specs for p in re.split(r"[;\s]+", spec.strip()) if p):
        key, sep, listed = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in _BOUNDS or not listed.strip():
            raise InvalidInput(f"--conditions {part!r}: expected size=L[,L...] with optional jpeg=Q[,Q...] and "
                               f"blur=SIGMA[,SIGMA...], e.g. size=96,64,48,32,24 jpeg=80")
        if key in values:
            raise InvalidInput(f"--conditions names {key}= twice")
        values[key] = [v.strip() for v in listed.split(",")]
    if "size" not in values:
        raise InvalidInput("--conditions needs size=L[,L...]: the face box widths in pixels to render probes at")
    sizes = [_number("size", v, int) for v in values["size"]]
    jpegs = [_number("jpeg", v, int) for v in values.get("jpeg", [str(DEFAULT_JPEG_QUALITY)])]
    blurs = [_number("blur", v, float) for v in values.get("blur", ["0"])]
    out = [Condition(int(s), int(q), float(b)) for s, q, b in itertools.product(sizes, jpegs, blurs)]
    return tuple(dict.fromkeys(out))


def _number(key: str, text: str, kind: type[int] | type[float]) -> float:
    low, high = _BOUNDS[key]
    try:
        value = kind(text)
    except ValueError:
        raise InvalidInput(f"--conditions {key}={text!r}: not {'an integer' if kind is int else 'a number'}") from None
    if not (low <= value <= high) or not math.isfinite(value):
        raise InvalidInput(f"--conditions {key}={text}: must lie between {low:g} and {high:g}")
    return value


def render(image: np.ndarray, box: np.ndarray, condition: Condition) -> np.ndarray:
    """The photograph as a camera would see it under `condition`: rescaled so `box` (x1, y1, x2, y2 in the
    photograph's pixels) is `condition.face_px` wide, centred in the frame, blurred, JPEG-encoded and decoded."""
    if condition.face_px is None or condition.jpeg_quality is None:
        raise ValueError("render needs a condition with a face size and a JPEG quality")
    x1, y1, x2, y2 = (float(v) for v in box[:4])
    scale = condition.face_px / max(x2 - x1, 1e-6)
    # The frame position of the photograph's (0, 0): the face box's centre lands on the frame's centre.
    ox, oy = FRAME_WIDTH / 2 - scale * (x1 + x2) / 2, FRAME_HEIGHT / 2 - scale * (y1 + y2) / 2
    grey = (FRAME_GREY,) * 3
    frame: np.ndarray
    if scale < 1:
        h, w = image.shape[:2]
        small = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        frame = np.full((FRAME_HEIGHT, FRAME_WIDTH, 3), FRAME_GREY, np.uint8)
        left, top = round(ox), round(oy)
        fx0, fy0 = max(left, 0), max(top, 0)
        fx1, fy1 = min(left + small.shape[1], FRAME_WIDTH), min(top + small.shape[0], FRAME_HEIGHT)
        if fx1 > fx0 and fy1 > fy0:
            frame[fy0:fy1, fx0:fx1] = small[fy0 - top:fy1 - top, fx0 - left:fx1 - left]
    else:  # enlarging: interpolate straight into the frame, never an enlarged copy of the whole photograph
        m = np.array([[scale, 0.0, ox], [0.0, scale, oy]], dtype=np.float64)
        frame = cv2.warpAffine(image, m, (FRAME_WIDTH, FRAME_HEIGHT), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=grey)
    if condition.blur_sigma > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), condition.blur_sigma)
    ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, condition.jpeg_quality])
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:
        raise RuntimeError("OpenCV could not JPEG-encode and decode a rendered frame")
    return np.asarray(decoded)


@dataclass(frozen=True)
class Outcome:
    """One probe's search under one condition: the search as scored, the reasons it yielded no template
    (empty when it did) and the width of the face box the detector found (None when it found none)."""

    search: Search
    refused: tuple[str, ...]
    face_px: float | None


def refusal_reasons(why: str | None) -> tuple[str, ...]:
    """The kinds of reason in an evaluation's failure text ("face too small: 21.0 px < 24 px; detector score
    too low: ..." gives "face too small", "detector score too low")."""
    if not why:
        return ()
    return tuple(dict.fromkeys(part.split(":")[0].strip() for part in why.split("; ") if part.strip()))


def _rate(entry: dict[str, Any] | None, metric: str) -> Rate:
    if entry is None:
        return Rate(None, None, None)
    lo, hi = entry[f"{metric}_ci95"]
    return Rate(entry[metric], lo, hi)


def measure(condition: Condition, outcomes: Sequence[Outcome], enrolments: Sequence[Enrolment], *,
            operating: float, target_fpir: float, seed: int = 0,
            replicates: int = BOOTSTRAP_REPLICATES) -> ConditionPoint:
    """Every rate of one condition (see the module's docstring)."""
    searches = [o.search for o in outcomes]
    as_one = [replace(s, group=_ALL) for s in searches]
    enrolled_as_one = [replace(e, group=_ALL) for e in enrolments]
    at_operating = per_group(as_one, enrolled_as_one, operating, replicates=replicates, seed=seed)["groups"].get(_ALL)
    nonmated = np.array([s.score for s in searches if not s.mated], np.float64)
    calibrated, sufficient = threshold_at_fpir(nonmated, target_fpir) if nonmated.size else (math.nan, False)
    at_target = None
    if math.isfinite(calibrated):  # -inf: no non-mated search yielded a template; nothing to calibrate on
        at_target = per_group(as_one, enrolled_as_one, calibrated, replicates=replicates, seed=seed)["groups"][_ALL]
    by_group = per_group(searches, list(enrolments), operating, replicates=replicates, seed=seed)
    refused, refusals = _refusals(outcomes, replicates, seed)
    widths = [o.face_px for o in outcomes if o.face_px is not None]
    ratios = by_group["ratios"]
    fnir = _rate(at_operating, "fnir")
    fnir_at_target = _rate(at_target, "fnir")
    return ConditionPoint(
        condition=condition,
        n_mated=sum(s.mated for s in searches), n_nonmated=sum(not s.mated for s in searches),
        face_px_median=float(np.median(widths)) if widths else None,
        fnir=fnir, tpir=fnir.complement(), fpir=_rate(at_operating, "fpir"), rank1=_rate(at_operating, "rank1"),
        calibrated_threshold=calibrated if math.isfinite(calibrated) else None,
        calibrated_sufficient=bool(sufficient and math.isfinite(calibrated)),
        fnir_at_target=fnir_at_target, tpir_at_target=fnir_at_target.complement(),
        fpir_at_target=_rate(at_target, "fpir"),
        refused=refused, refused_probes=sum(bool(o.refused) for o in outcomes), refusals=refusals,
        groups=tuple(GroupRates(g, e["identities"], e["n_mated"], e["n_nonmated"], _rate(e, "fnir"), _rate(e, "fpir"),
                                _rate(e, "rank1")) for g, e in by_group["groups"].items()),
        fnir_verdict=ratios["fnir"]["verdict"] if ratios["fnir"] else None,
        fnir_flagged=bool(ratios["fnir"] and ratios["fnir"]["flag"]),
        fpir_verdict=ratios["fpir"]["verdict"] if ratios["fpir"] else None,
        fpir_flagged=bool(ratios["fpir"] and ratios["fpir"]["flag"]),
    )


def _refusals(outcomes: Sequence[Outcome], replicates: int, seed: int) -> tuple[Rate, tuple[Refusals, ...]]:
    """The share of probes refused (any reason, and each reason), bootstrapped over identities like the rates."""
    reasons = sorted({r for o in outcomes for r in o.refused})
    rows: dict[str, np.ndarray] = {}
    for o in outcomes:  # per identity: probes, refused, then each reason
        row = rows.setdefault(o.search.identity, np.zeros(2 + len(reasons)))
        row[0] += 1
        row[1] += bool(o.refused)
        for r in o.refused:
            row[2 + reasons.index(r)] += 1
    if not rows:
        return Rate(None, None, None), ()
    counts = np.array(list(rows.values()))
    boot = bootstrap_sums(counts, (np.ones(len(counts), bool),), replicates, np.random.default_rng(seed))
    total = counts.sum(axis=0)

    def rate(column: int) -> Rate:
        with np.errstate(invalid="ignore", divide="ignore"):
            return Rate(float(total[column] / total[0]), *interval95(boot[:, column] / boot[:, 0]))

    return rate(1), tuple(Refusals(r, int(total[2 + k]), rate(2 + k)) for k, r in enumerate(reasons))


def curve(measured: Sequence[tuple[Condition, Sequence[Outcome]]], enrolments: Sequence[Enrolment], *,
          embedder: ModelIdentity, detector: ModelIdentity, manifest: str, seed: int, target_fpir: float,
          operating: float, threshold_source: str, group_by: str,
          replicates: int = BOOTSTRAP_REPLICATES) -> ConditionCurve:
    """The curve over the conditions, as photographed first, at one operating threshold."""
    if not math.isfinite(operating):
        raise InvalidInput("--conditions needs an operating threshold: give --threshold, or hold out identities "
                           "so one can be calibrated on non-mated searches")
    return ConditionCurve(
        embedder=embedder, detector=detector, manifest=manifest, seed=seed, frame_width=FRAME_WIDTH,
        frame_height=FRAME_HEIGHT, target_fpir=target_fpir, operating_threshold=operating,
        threshold_source=threshold_source, group_by=group_by,
        bootstrap=f"{replicates} replicates over identities, 95% percentile",
        points=tuple(measure(c, o, enrolments, operating=operating, target_fpir=target_fpir, seed=seed,
                             replicates=replicates) for c, o in measured))


def record(conn: psycopg.Connection[Any], result: ConditionCurve, actor: Actor, *,
           calibration_id: int | None = None) -> int:
    """Store the curve with its model's identity as `actor` (an admin), audited; its id."""
    with acting(conn, actor):
        curve_id = queries.insert_condition_curve(conn, result, recorded_by=actor.name, calibration_id=calibration_id)
        audit.append(conn, actor=actor.name, role=actor.role, action="model.condition_curve", object_type="model",
                     object_id=result.embedder.weights_sha256,
                     details={"condition_curve_id": curve_id, "calibration_id": calibration_id,
                              "manifest": result.manifest, "operating_threshold": result.operating_threshold,
                              "fnir": {p.condition.label: p.fnir.value for p in result.points}})
    return curve_id


def latest(conn: psycopg.Connection[Any], embedder_sha256: str) -> RecordedConditionCurve | None:
    """The embedder's latest recorded curve; None when none was recorded."""
    return queries.latest_condition_curve(conn, embedder_sha256)


def reliable_size(curve: ConditionCurve, factor: float, curve_id: int | None = None) -> ReliableSize | None:
    """The smallest face size measured whose FNIR upper bound at the operating threshold, and that of every larger
    size, stays within `factor` times the upper bound as photographed: bound against bound, so that the few
    identities of an evaluation set widen both alike (the worst JPEG quality measured at a size counts; blurred
    conditions answer another question and are left out); None when not even the largest size does, or no size was
    measured."""
    full = curve.points[0].fnir.high
    sized = [p for p in curve.points[1:] if p.condition.face_px is not None and not p.condition.blur_sigma]
    if full is None or not sized:
        return None
    found = None
    for px in sorted({p.condition.face_px for p in sized if p.condition.face_px is not None}, reverse=True):
        highs = [p.fnir.high for p in sized if p.condition.face_px == px]
        worst = None if any(h is None for h in highs) else max(h for h in highs if h is not None)
        if worst is None or worst > factor * full:
            break
        found = ReliableSize(px, worst, full, factor, curve.operating_threshold, curve_id)
    return found


def latest_reliable_size(conn: psycopg.Connection[Any], embedder_sha256: str, factor: float) -> ReliableSize | None:
    """The reliable size from the embedder's latest recorded curve; None without one, or where it finds none."""
    recorded = latest(conn, embedder_sha256)
    return None if recorded is None else reliable_size(recorded.curve, factor, recorded.id)
