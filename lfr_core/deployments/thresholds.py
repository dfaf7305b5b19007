"""Threshold governance (issue 27 item 4): the floor a deployment's threshold never goes under, and a change of
threshold as an authoriser's recorded decision.

The floor for a model is the pack's (`[threshold]` floors per embedder name) raised, where the pack says
never_below_equitability, to the lowest threshold at which a recorded `lfr eval --record` of that model showed no
flagged difference in FNIR or FPIR between groups. The database enforces it on the planned threshold, on every
list's threshold and on each decision (lfr_core/db/policy/35_thresholds.sql).

A change is previewed first: at the old and the new value, the per-group rates with intervals from the evaluation
the authoriser names, and the trade (expected false alerts per 10,000 faces at the list's size, and FNIR), as the
Met's 0.60 -> 0.64 change of 2024 moved false alerts from 3.6% to 0.35% of alerts. Only a confirmed preview is
recorded: the decision row (who, when, evaluation, reason, what they saw) and the new threshold in one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.deployments import queries
from lfr_core.errors import InvalidInput, Refused
from lfr_core.evaluation import calibration
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting


@dataclass(frozen=True)
class Model:
    """The embedder a deployment's lists are built with (or the evaluation's, before any list is built)."""

    name: str | None
    sha256: str


def floor(conn: psycopg.Connection, deployment: dict[str, Any], model: Model | None) -> float | None:
    """The floor the database enforces for this deployment and model (None: planned before packs); without a
    model, the pack's highest floor, as at planning."""
    if deployment.get("policy_name") is None:
        return None
    return queries.threshold_floor(conn, deployment["policy_name"], deployment["policy_version"],
                                   model.name if model else None, model.sha256 if model else None)


def preview(conn: psycopg.Connection, deployment: dict[str, Any], *, value: float, evaluation_id: int,
            list_size: int, current: float | None, model: Model | None) -> dict[str, Any]:
    """What the authoriser sees before confirming: the evaluation's figures at the current and the new value, the
    floor, and whether the new value is allowed. `current` is the threshold in force (the deployment's, or its
    latest list's when the deployment leaves it to calibration); `model` the lists' embedder when one was built."""
    if not 0.0 < value < 1.0:
        raise InvalidInput(f"threshold {value} must lie between 0 and 1")
    if list_size < 1:
        raise InvalidInput("a list size of at least 1 is needed to project false alerts")
    new = calibration.at_threshold(conn, evaluation_id, value, list_size)
    evaluated = Model(new["model"]["name"], new["model"]["sha256"])
    if model is not None and model.sha256 != evaluated.sha256:
        raise Refused(f"evaluation #{evaluation_id} is of {evaluated.name} ({evaluated.sha256[:12]}); the "
                      f"deployment's lists are built with {model.name} ({model.sha256[:12]})")
    old = None if current is None else calibration.at_threshold(conn, evaluation_id, current, list_size)
    lowest = floor(conn, deployment, evaluated)
    flagged = [m for m, r in new["per_group"]["ratios"].items() if r and r.get("flag")]
    problems = ([f"{value} is below the floor {lowest:.4f} for {evaluated.name}"] if lowest is not None
                and value < lowest - 1e-6 else [])
    problems += [f"{m.upper()} differs between groups at {value}" for m in flagged]
    problems += _uncovered(new["recorded_verdict"], value, evaluation_id)
    return {"deployment_id": str(deployment["id"]), "old": old, "new": new, "floor": lowest,
            "model": {"name": evaluated.name, "sha256": evaluated.sha256}, "evaluation_id": evaluation_id,
            "planned_threshold": deployment["threshold"], "allowed": not problems, "problems": problems}


def _uncovered(verdict: dict[str, Any] | None, value: float, evaluation_id: int) -> list[str]:
    """Why the evaluation's recorded verdict does not cover `value` (as the database judges it), or nothing."""
    ratios = [r for r in ((verdict or {}).get("ratios") or {}).values() if r]
    if not any(r.get("testable") for r in ratios) or any(r.get("flag") for r in ratios):
        return [f"evaluation #{evaluation_id} recorded no unflagged comparison of groups"]
    if verdict is not None and verdict["threshold"] > value + 1e-6:
        return [f"evaluation #{evaluation_id} cleared groups only from {verdict['threshold']:.4f}, above {value}"]
    return []


def decide(conn: psycopg.Connection, deployment: dict[str, Any], shown: dict[str, Any], reason: str,
           actor: Actor) -> dict[str, Any]:
    """Record the authoriser's decision on the preview they saw and set the deployment's threshold, in one
    transaction as the authoriser (the database checks the role, the floor, the evaluation and the author)."""
    actor.require("authoriser", to="decide a deployment's threshold")
    if not reason.strip():
        raise InvalidInput("a threshold decision needs a reason")
    if not shown["allowed"]:
        raise Refused("threshold not changed: " + "; ".join(shown["problems"]))
    deployment_id = uuid.UUID(str(deployment["id"]))
    value = shown["new"]["threshold"]
    with acting(conn, actor):
        decision = queries.insert_threshold_decision(
            conn, deployment_id=deployment_id, old_threshold=deployment["threshold"], new_threshold=value,
            calibration_id=shown["evaluation_id"], embedder_sha256=shown["model"]["sha256"],
            preview=_kept(shown), reason=reason.strip(), decided_by=actor.name)
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={"reason": reason.strip()})
        queries.set_threshold(conn, deployment_id, value, decision["id"])
    return decision


def _kept(shown: dict[str, Any]) -> dict[str, Any]:
    """The preview as the decision keeps it: rates and counts only (the evaluation's searches stay where they are)."""
    return {k: shown[k] for k in ("old", "new", "floor", "model", "evaluation_id")}


def decision_line(conn: psycopg.Connection, deployment: dict[str, Any]) -> str | None:
    """The decision that set the deployment's threshold, in words; None when it is still the planned one."""
    if deployment.get("threshold_decision_id") is None:
        return None
    d = queries.threshold_decision(conn, deployment["threshold_decision_id"])
    if d is None:
        return None
    before = "calibrated per list" if d["old_threshold"] is None else f"{d['old_threshold']:.4f}"
    return (f"{before} -> {d['new_threshold']:.4f} by {d['decided_by']} at {d['decided_at']:%Y-%m-%d %H:%M %Z}, "
            f"evaluation #{d['calibration_id']}, floor {d['floor']:.4f}: {d['reason']}")


def record_lines(conn: psycopg.Connection, deployment: dict[str, Any], model: Model | None) -> list[tuple[str, str]]:
    """The floor and the decision as (label, text) lines, beside the deployment record (policy_store.record_lines)."""
    lowest = floor(conn, deployment, model)
    if lowest is None:
        return []
    which = f"for {model.name}" if model else "the pack's highest (no list built yet)"
    lines = [("Threshold floor", f"{lowest:.4f} {which}, under {deployment['policy_name']} "
                                 f"v{deployment['policy_version']} and the model's recorded equitability")]
    line = decision_line(conn, deployment)
    lines.append(("Threshold decision", line or "none: the planned threshold"))
    return lines


