"""Recorded calibrations: what `lfr eval` measured for a model, reused to project false alerts.

A calibration keeps the evaluation's non-mated top scores (numbers, never templates) and its gallery size.
For a deployment's threshold t and list size N the per-comparison false match rate is p = FPIR(t) / N_g
(the scaling model in `lfr_core.evaluation.run`); when no non-mated search reached t, the rule-of-three
95% bound 3 / n_nonmated stands in for FPIR(t), so the projection errs on the side of more false alerts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import psycopg

from lfr_core.audit import log as audit
from lfr_core.errors import InvalidInput, NotFound
from lfr_core.evaluation import queries
from lfr_core.evaluation.groups import Enrolment, Search, per_group
from lfr_core.evaluation.impostor import Evidence, ImpostorTail, assess
from lfr_core.evaluation.metrics import threshold_at_fpir
from lfr_core.evaluation.model import Calibration
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting


def _pseudonymise(searches: list[Search], enrolments: list[Enrolment]) -> tuple[list, list]:
    """Searches and enrolments with identities replaced by indices: the per-group bootstrap needs to know which
    searches share a person, never who the person is."""
    index: dict[str, int] = {}
    ids = lambda name: index.setdefault(name, len(index))  # noqa: E731
    return ([[ids(x.identity), x.group, x.mated, x.score if np.isfinite(x.score) else None, x.is_top]
             for x in searches],
            [[ids(e.identity), e.group, e.enrolled] for e in enrolments])


def record(conn: psycopg.Connection, result: dict[str, Any], nonmated_top: np.ndarray, actor: Actor, *,
           searches: list[Search] | None = None, enrolments: list[Enrolment] | None = None,
           impostor: ImpostorTail | None = None) -> int:
    scores = np.asarray(nonmated_top, dtype=np.float64)
    scores = scores[np.isfinite(scores)]
    if scores.size == 0 or not result["protocol"]["enrolled"]:
        raise InvalidInput("an evaluation without non-mated searches or enrolled identities cannot calibrate")
    summary: dict[str, Any] = {k: result[k] for k in ("rank1", "fnir_at_fpir", "threshold_at_fpir", "calibrated")
                               if k in result}
    if result.get("per_group"):
        # The equitability verdict at the evaluation's operating threshold, kept so a threshold floor can read it.
        pg = result["per_group"]
        summary["equitability"] = {"group_by": pg["group_by"], "threshold": pg["threshold"],
                                   "ratios": pg["ratios"]}
    stored_searches, stored_enrolments = _pseudonymise(searches or [], enrolments or [])
    with acting(conn, actor):
        calibration_id = queries.insert_calibration(
            conn, embedder_sha256=result["model"]["embedder"]["weights_sha256"],
            detector_sha256=result["model"]["detector"]["weights_sha256"], model=result["model"],
            manifest=result["manifest"], n_gallery=result["protocol"]["enrolled"], nonmated_top_scores=scores.tolist(),
            summary=summary, recorded_by=actor.name, group_by=(result.get("per_group") or {}).get("group_by"),
            searches=stored_searches if searches else None, enrolments=stored_enrolments if enrolments else None,
            impostor=impostor)
        audit.append(conn, actor=actor.name, role=actor.role, action="model.calibrate", object_type="model",
                     object_id=result["model"]["embedder"]["weights_sha256"],
                     details={"calibration_id": calibration_id, "manifest": result["manifest"], **summary,
                              **({} if impostor is None else {"impostor_pairs": impostor.pairs,
                                                              "resolvable_rate": impostor.resolvable})})
    return calibration_id


def _source(row: Calibration) -> str:
    return (f"lfr eval calibration #{row.id} on {row.manifest} ({row.recorded_at:%Y-%m-%d}), "
            f"{len(row.nonmated_top_scores)} non-mated searches against {row.n_gallery} enrolled")


def threshold_at_target(conn: psycopg.Connection, embedder_sha256: str, target_fpir: float,
                        list_size: int) -> dict[str, Any] | None:
    """The threshold at which a list of `list_size` made with this embedder keeps FPIR <= `target_fpir`, from
    its latest calibration; None when the model was never calibrated.

    FPIR grows with the list (p = FPIR / N_g per comparison), so a list larger than the calibration gallery
    needs FPIR_cal <= target * N_g / N; a smaller list keeps the calibration's own threshold (never lower: a
    short list is no reason to alert on weaker matches)."""
    row = queries.latest_calibration(conn, embedder_sha256)
    if row is None:
        return None
    scores = np.asarray(row.nonmated_top_scores, dtype=np.float64)
    effective = target_fpir * min(1.0, row.n_gallery / max(list_size, 1))
    threshold, sufficient = threshold_at_fpir(scores, effective)
    note = "" if sufficient else (f"; {scores.size} non-mated searches cannot resolve FPIR {effective:.2g}, so the "
                                  f"threshold lies above every non-mated score")
    return {"threshold": float(threshold), "sufficient": sufficient,
            "source": f"calibrated for FPIR {target_fpir:g} at a list of {list_size}: {_source(row)}{note}"}


def equitability(conn: psycopg.Connection, embedder_sha256: str, threshold: float) -> dict[str, Any] | None:
    """Per-group error rates with intervals at `threshold`, from the latest calibration of this embedder that
    recorded its searches; None when there is none."""
    row = queries.latest_calibration_with_searches(conn, embedder_sha256)
    if row is None:
        return None
    searches = [Search(str(i), g, m, -np.inf if s is None else s, t) for i, g, m, s, t in row.searches]
    enrolments = [Enrolment(str(i), g, e) for i, g, e in row.enrolments or []]
    return {"group_by": row.group_by, "source": _source(row), **per_group(searches, enrolments, threshold)}


def per_comparison_fmr(conn: psycopg.Connection, embedder_sha256: str, threshold: float) -> dict[str, Any] | None:
    """p at `threshold` from the latest calibration of this embedder, or None when none was recorded."""
    row = queries.latest_calibration(conn, embedder_sha256)
    if row is None:
        return None
    scores = np.asarray(row.nonmated_top_scores, dtype=np.float64)
    hits = int((scores >= threshold).sum())
    fpir_measured = hits / scores.size if hits else 3.0 / scores.size
    return {
        "per_comparison_fmr": fpir_measured / row.n_gallery,
        "bound": "point estimate" if hits else "rule-of-three 95% upper bound (no non-mated search reached t)",
        "source": _source(row),
    }


def evidence(conn: psycopg.Connection, embedder: dict[str, Any], threshold: float, list_size: int,
             target_fpir: float) -> Evidence:
    """Whether the latest recorded impostor tail of this embedder resolves a list of `list_size` at `threshold`
    (lfr_core/evaluation/impostor.py `assess`)."""
    found = queries.latest_impostor_tail(conn, embedder["weights_sha256"])
    calibration_id, tail = found if found else (None, None)
    return assess(tail, calibration_id, threshold, list_size, target_fpir,
                  f"{embedder.get('name')} ({embedder['weights_sha256'][:12]})")


def at_threshold(conn: psycopg.Connection, calibration_id: int, threshold: float, list_size: int) -> dict[str, Any]:
    """What one recorded evaluation says of `threshold` for a list of `list_size`: per-group error rates with
    intervals and the flag (lfr_core/evaluation/groups.py), overall FNIR, FPIR at the list's size and the expected
    false alerts per 10,000 faces seen (p = FPIR(t) / N_g per comparison; rule-of-three bound when no non-mated
    search reached t). NotFound when there is no such evaluation; InvalidInput when it kept no searches."""
    row = queries.calibration_by_id(conn, calibration_id)
    if row is None:
        raise NotFound(f"no recorded evaluation #{calibration_id} (lfr eval ... --record)")
    if not row["searches"]:
        raise InvalidInput(f"evaluation #{calibration_id} recorded no per-group searches; record one with "
                           f"`lfr eval --group-by ... --record`")
    searches = [Search(str(i), g, m, -np.inf if s is None else s, t) for i, g, m, s, t in row["searches"]]
    enrolments = [Enrolment(str(i), g, e) for i, g, e in row["enrolments"] or []]
    mated = [s for s in searches if s.mated]
    misses = sum(1 for s in mated if not (s.is_top and s.score >= threshold))
    scores = np.asarray(row["nonmated_top_scores"], dtype=np.float64)
    hits = int((scores >= threshold).sum())
    fpir_cal = hits / scores.size if hits else 3.0 / scores.size
    fpir_list = 1.0 - (1.0 - fpir_cal / row["n_gallery"]) ** max(list_size, 1)
    return {"threshold": threshold, "list_size": list_size, "fnir": misses / len(mated) if mated else None,
            "fpir_at_list_size": fpir_list, "false_alerts_per_10000_faces": 10_000 * fpir_list,
            "fpir_bound": "point estimate" if hits else "rule-of-three 95% upper bound (no non-mated search reached t)",
            "per_group": {"group_by": row["group_by"], **per_group(searches, enrolments, threshold)},
            "model": {"name": row["model"]["embedder"].get("name"), "sha256": row["embedder_sha256"]},
            "recorded_verdict": (row["summary"] or {}).get("equitability"),
            "source": (f"lfr eval calibration #{row['id']} on {row['manifest']} ({row['recorded_at']:%Y-%m-%d}), "
                       f"{scores.size} non-mated searches against {row['n_gallery']} enrolled")}
