"""The match threshold a watchlist version is sealed with, and where it came from.

A deployment may set its own (within `match.threshold_min`..`threshold_max`); otherwise the list takes the
threshold that the latest `lfr eval --record` calibration of the list's own embedder gives for
`match.target_fpir` at the list's size. Only a model never calibrated falls back to `match.threshold`
(SFace's published 1:1 operating point), and the version records which of the three it was.
"""

from __future__ import annotations

from typing import Any

import psycopg

from lfr_core.config import Settings
from lfr_core.deployments import thresholds
from lfr_core.evaluation import calibration


def choose_threshold(conn: psycopg.Connection, deployment: dict[str, Any], embedder: dict[str, Any],
                     list_size: int, settings: Settings) -> tuple[float, str]:
    """(threshold, source) for a list of `list_size` accepted entries built with `embedder`."""
    if deployment["threshold"] is not None:
        return float(deployment["threshold"]), "set by the deployment"
    calibrated = calibration.threshold_at_target(conn, embedder["weights_sha256"], settings.match.target_fpir,
                                                 list_size)
    if calibrated is None:
        return settings.match.threshold, (f"fallback LFR_MATCH__THRESHOLD: no `lfr eval --record` calibration of "
                                          f"{embedder['name']} ({embedder['weights_sha256'][:12]}) exists")
    low, high = settings.match.threshold_min, settings.match.threshold_max
    threshold = min(max(calibrated["threshold"], low), high)
    clamped = "" if threshold == calibrated["threshold"] else f" ({calibrated['threshold']:.4f} clamped to [{low}, {high}])"
    # Never under the pack's floor for the model (issue 27 item 4); the database refuses a list below it.
    lowest = thresholds.floor(conn, deployment, thresholds.Model(embedder.get("name"), embedder["weights_sha256"]))
    if lowest is not None and threshold < lowest:
        clamped += f" (raised from {threshold:.4f} to the floor {lowest:.4f} of {deployment['policy_name']})"
        threshold = lowest
    return threshold, calibrated["source"] + clamped
