"""Cancelling a planned (or live) deployment: it stops at once, and nothing built for it survives.

The deployment is marked cancelled first, so no list can be activated or built for it from then on; then
each of its versions is taken down (an active list is expired) and purged with a receipt that gives the
cancellation as its reason. Running it again finishes a cancellation that a failure interrupted. The
deployment's DAG run notices the cancellation at its next step and ends, skipping what is left.
"""

from __future__ import annotations

from typing import Any

import psycopg

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.config import Settings
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, Refused
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import lifecycle
from lfr_core.workflow.purge import purge


def cancel_deployment(conn: psycopg.Connection, store: ObjectStore, settings: Settings, deployment_id: str,
                      actor: Actor, reason: str, *, take_down: bool = True) -> dict[str, Any]:
    actor.require("planner", "admin", "system", to="cancel a deployment")
    if not reason.strip():
        raise InvalidInput("a cancellation needs a reason (it is recorded in the audit log and the purge receipts)")
    reason = reason.strip()
    with acting(conn, actor):
        deployment = deployments.get(conn, deployment_id, lock=True)
        if deployment["status"] == "lapsed":
            raise Refused(f"deployment {deployment['id']} lapsed when its window ended without going live; there is "
                          f"nothing left to cancel")
        if deployment["status"] == "closed":
            raise Refused(f"deployment {deployment['id']} is already closed; its lists expire and purge as usual")
        if deployment["status"] != "cancelled":
            deployments.set_status(conn, deployment["id"], "cancelled", actor, reason)
    # The cancelling person is recorded on the deployment; the platform carries out the take-down and purge
    # (which need the admin role) on their behalf, with their name and reason in every receipt: here when
    # this connection is the platform's (a DAG task), else by the expiry sweep (lfr_core/workflow/sweeps.py), while
    # the live service refuses the deployment's frames from now on.
    why = f"deployment cancelled by {actor.name}: {reason}"
    receipts = []
    for version in lifecycle.list_versions(conn, deployment["id"]) if take_down else ():
        if version["state"] == "purged":
            continue
        if version["state"] in ("active", "approved"):
            lifecycle.expire(conn, str(version["id"]), SYSTEM, reason=why)
        receipts.append(purge(conn, store, settings, str(version["id"]), SYSTEM, reason=why))
    # The cancellation and every take-down are sealed at once: `lfr audit verify` fails on a decision left uncovered.
    audit_checkpoints.checkpoint(conn, store, settings)
    return {"deployment_id": str(deployment["id"]), "status": "cancelled", "reason": reason, "taken_down": take_down,
            "purged": [r["version_id"] for r in receipts], "receipts": [r.get("receipt_uri") for r in receipts]}
