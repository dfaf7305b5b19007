"""The live gate from evidence (issue 32 item 2): the face size a deployment's live gate admits from.

A version records, when it is built, the face size its model recognises reliably, the reliable size of the
embedder's latest recorded size curve (lfr_core/evaluation/conditions.py `reliable_size`, at the factor of the
deployment's policy pack `[face_size]`, else quality.reliable_fnir_factor), never below the live gate's
configured minimum; with no curve recorded, that minimum, saying so. The database refuses a version whose factor
is above its pack's (lfr_check_reliable_size). The live gate runs at the recorded size. An authoriser may run a deployment below it only by
recording the decision (the size, their name, when and why); the database refuses a gate below the recorded size
without one (lfr_core/db/policy/40_watchlist.sql lfr_check_gate) and audits each decision (`watchlist.gate`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg

from lfr_core.config import Settings
from lfr_core.deployments import cameras, policy_store
from lfr_core.deployments import service as deployments_service
from lfr_core.deployments.policy import PolicyPack
from lfr_core.errors import InvalidInput, Refused
from lfr_core.evaluation import conditions
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.watchlist import queries
from lfr_core.watchlist.lifecycle import get_version, list_versions

GATED_STATES = ("draft", "approved", "active")


CONFIG_FACTOR = "configuration quality.reliable_fnir_factor"


def reliable_factor(settings: Settings, pack: PolicyPack | None) -> tuple[float, str]:
    """The reliable size rule's factor and where it comes from: the pack's `[face_size]`, else the configuration
    (a deployment planned before packs, or a pack written before the rule)."""
    if pack is not None and pack.face_size is not None:
        return pack.face_size.reliable_fnir_factor, f"policy pack {pack.ref}"
    return settings.quality.reliable_fnir_factor, CONFIG_FACTOR


def deployment_factor(conn: psycopg.Connection, settings: Settings, deployment: dict[str, Any]) -> tuple[float, str]:
    """`reliable_factor` for the pack version this deployment runs under."""
    loaded = policy_store.of_deployment(conn, deployment)
    return reliable_factor(settings, None if loaded is None else loaded.pack)


def version_factor(conn: psycopg.Connection, settings: Settings, version: dict[str, Any]) -> float:
    """The factor the reliable size rule applies for a version's deployment (`deployment_factor`)."""
    return deployment_factor(conn, settings, deployments_service.get(conn, version["deployment_id"]))[0]


def reliable_at_build(conn: psycopg.Connection, settings: Settings, embedder_sha256: str,
                      factor_of: tuple[float, str] | None = None) -> tuple[int, dict[str, Any]]:
    """The reliable face size a new version records, and its source: the curve, the model, the factor (with where
    it comes from, `deployment_factor`; the configuration's when not given) and the rule's figures, or that no
    curve is recorded (the live gate's configured minimum then). The database refuses a factor above the pack's."""
    factor, factor_source = factor_of or reliable_factor(settings, None)
    recorded = conditions.latest(conn, embedder_sha256)
    reliable = None if recorded is None else conditions.reliable_size(recorded.curve, factor, recorded.id)
    px, words = cameras.reliable_face_px(settings, reliable)
    source: dict[str, Any] = {"curve_id": None if recorded is None else recorded.id, "embedder_sha256": embedder_sha256,
                              "factor": factor, "factor_source": factor_source,
                              "min_live_face_px": settings.quality.min_live_face_px, "text": words}
    if reliable is not None:
        source.update(fnir_high=reliable.fnir_high, full_fnir_high=reliable.full_fnir_high,
                      operating_threshold=reliable.operating_threshold, curve_face_px=reliable.face_px)
    return px, source


def gate_face_px(version: dict[str, Any], settings: Settings) -> int:
    """The size the live gate admits faces from for this version: the authoriser's decided size, else the
    recorded reliable size, else (a version built before either was recorded) the configured minimum."""
    return int(version.get("gate_face_px") or version.get("reliable_face_px") or settings.quality.min_live_face_px)


def reliable_px(version: dict[str, Any], settings: Settings) -> int:
    """The size against which faces count as recognisable for this version (recorded, else the minimum)."""
    return int(version.get("reliable_face_px") or settings.quality.min_live_face_px)


def reliable_line(version: dict[str, Any], settings: Settings) -> str:
    """The version's recorded reliable face size and where it came from, in one line."""
    if version.get("reliable_face_px") is None:
        return (f"Reliable face size: not recorded (this version was built before it was); the live gate runs at "
                f"quality.min_live_face_px = {settings.quality.min_live_face_px}")
    source = (version.get("reliable_face_source") or {}).get("text", "source not recorded")
    return f"Reliable face size: {version['reliable_face_px']} px ({source})"


def factor_words(version: dict[str, Any]) -> str:
    """The reliable size rule's factor a version was built with, and its source, in words ("" when unrecorded)."""
    source = version.get("reliable_face_source") or {}
    if source.get("factor") is None:
        return ""
    return f"; rule factor {float(source['factor']):g} from {source.get('factor_source') or CONFIG_FACTOR}"


def gate_line(version: dict[str, Any], settings: Settings) -> str:
    """The size the live gate admits faces from, on whose decision when below the reliable size, and the reliable
    size rule's factor with its source (the policy pack's name and version, or the configuration)."""
    px, reliable = gate_face_px(version, settings), version.get("reliable_face_px")
    if reliable is None:
        return f"Live gate: {px} px (the configured minimum)"
    if px < reliable:
        return (f"Live gate: {px} px, below the reliable face size of {reliable} px by decision of "
                f"{version.get('gate_decided_by')} at {_iso(version.get('gate_decided_at'))}: {version.get('gate_reason')}"
                f"{factor_words(version)}")
    notes = (["the reliable face size"] if px == reliable else []) + [factor_words(version).removeprefix("; ")]
    notes = [note for note in notes if note]
    return f"Live gate: {px} px" + (f" ({'; '.join(notes)})" if notes else "")


def _iso(when: Any) -> str:
    return when.isoformat(timespec="seconds") if isinstance(when, datetime) else str(when)


def set_gate(conn: psycopg.Connection, version_id: str, actor: Actor, face_px: int,
             reason: str | None = None) -> dict[str, Any]:
    """Set a version's live gate size as an authoriser. Below the recorded reliable size it needs `reason`, the
    authoriser's recorded decision (in their name, now); the database refuses one without it, and audits it."""
    actor.require("authoriser", to="set a deployment's live gate")
    if face_px < 1:
        raise InvalidInput(f"--face-px {face_px}: a face size is at least 1 pixel")
    if reason is not None and not reason.strip():
        raise InvalidInput("a decision on the live gate needs a reason")
    with acting(conn, actor):
        version = get_version(conn, version_id, lock=True)
        if version["state"] not in GATED_STATES:
            raise Refused(f"version {version_id} is {version['state']}; its live gate no longer changes")
        below = version["reliable_face_px"] is not None and face_px < version["reliable_face_px"]
        if below and reason is None:
            raise Refused(f"a live gate of {face_px} px is below the recorded reliable face size of "
                          f"{version['reliable_face_px']} px; record the decision with a reason (--reason)")
        decision = (actor.name, reason, datetime.now(UTC)) if reason is not None else (None, None, None)
        return queries.set_gate(conn, version["id"], face_px, *decision)


def current_version(conn: psycopg.Connection, deployment_id: Any) -> dict[str, Any] | None:
    """The deployment's version whose gate is set: its latest draft, sealed or live list; None without one."""
    versions = [v for v in list_versions(conn, deployment_id) if v["state"] in GATED_STATES]
    return max(versions, key=lambda v: v["version"]) if versions else None


def set_deployment_gate(conn: psycopg.Connection, deployment_id: Any, actor: Actor, face_px: int,
                        reason: str | None = None) -> dict[str, Any]:
    """`set_gate` on the deployment's current version (`current_version`)."""
    version = current_version(conn, deployment_id)
    if version is None:
        raise Refused(f"deployment {deployment_id} has no draft, sealed or live watchlist whose gate could be set; "
                      f"build one first")
    return set_gate(conn, str(version["id"]), actor, face_px, reason)


def deployment_face_px(conn: psycopg.Connection, settings: Settings, deployment_id: Any,
                       embedder_sha256: str) -> tuple[int, str]:
    """The reliable face size a deployment's cameras are planned at, in words: its current version's recorded
    size, else the model's latest size curve as `lfr camera plan` reads it (lfr_core/deployments/cameras.py)."""
    version = current_version(conn, deployment_id)
    if version is not None and version.get("reliable_face_px"):
        source = (version.get("reliable_face_source") or {}).get("text", "source not recorded")
        return int(version["reliable_face_px"]), f"recorded by watchlist v{version['version']}: {source}"
    factor, _ = deployment_factor(conn, settings, deployments_service.get(conn, deployment_id))
    return cameras.reliable_face_px(settings, conditions.latest_reliable_size(conn, embedder_sha256, factor))
