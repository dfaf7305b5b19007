"""A use refused by the authority, or never authorised before its urgency deadline, is discarded (issue 27 item 3,
issue 28 item 7; Regulation (EU) 2024/1689 Art 5(3): "all the data, as well as the results and outputs of that use
shall be immediately discarded and deleted").

The refusal itself stops matching in its own transaction (the database expires the lists; the live service finds
no active list and refuses the frames). Then, in one transaction: the database deletes the use's alerts, held
crops, reviews and counters and writes the receipt (`lfr_discard_use`), and the probe crops under the
deployment's prefix of the alerts bucket are deleted and checked gone; a failure rolls the rows back and the sweep
tries again. What is left is the audit log and the receipt; the grid and the public results leave the use out.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.config import Settings
from lfr_core.deployments import authorisation
from lfr_core.deployments.model import AuthorisationState
from lfr_core.errors import Incomplete, LfrError
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.reporting import notification
from lfr_core.storage.objectstore import ObjectStore

LAPSED_REASON = "the urgency deadline passed without the authority's decision (Art 5(3))"


class DiscardIncomplete(Incomplete):
    """A use's crops are still in the object store; nothing was committed, and the sweep tries again."""


def discard_use(conn: psycopg.Connection, store: ObjectStore, settings: Settings, deployment_id: uuid.UUID,
                actor: Actor, reason: str) -> dict[str, Any]:
    """Delete everything a stopped use produced, with the receipt; returns the receipt and the number of object
    versions deleted. Safe to repeat: a use already discarded returns its receipt and deletes what is left."""
    bucket, prefix = settings.s3.bucket_alerts, f"{deployment_id}/"
    with acting(conn, actor):
        receipt = authorisation.discard_rows(conn, deployment_id, reason)
        objects = store.delete_prefix(bucket, prefix)
        left = store.list_keys(bucket, prefix, versions=True)
        if left:
            raise DiscardIncomplete(f"deployment {deployment_id}: {len(left)} crop object(s) still in s3://{bucket}/"
                                    f"{prefix} after deletion; nothing was committed, run again")
        audit.append(conn, actor=actor.name, role=actor.role, action="deployment.use_objects_deleted",
                     object_type="deployment", object_id=str(deployment_id),
                     details={"bucket": bucket, "object_versions_deleted": objects, "reason": reason})
    # A notification of this use already written gave its results: it is replaced by one saying it was stopped.
    if notification.required(conn, str(deployment_id)) and notification.published(store, settings, deployment_id):
        notification.publish(conn, store, settings, str(deployment_id), actor)
    return {**receipt, "object_versions_deleted": objects}


def refuse(conn: psycopg.Connection, store: ObjectStore, settings: Settings, deployment_id: uuid.UUID, actor: Actor,
           *, authority: str, authority_kind: str, decision_ref: str, decided_on: date | None = None,
           scope: str | None = None) -> dict[str, Any]:
    """Record the authority's refusal (matching stops as it commits), then discard the use. Returns the receipt;
    when the object store is down the refusal stands and the sweep finishes the deletion."""
    authorisation.record_decision(conn, deployment_id, actor, authority=authority, authority_kind=authority_kind,
                                  decision_ref=decision_ref, decided_on=decided_on, scope=scope, refused=True)
    return discard_use(conn, store, settings, deployment_id, actor,
                       f"external authorisation refused by {authority.strip()} ({decision_ref.strip()})")


def discard_stopped_uses(conn: psycopg.Connection, store: ObjectStore, settings: Settings, *,
                         actor: Actor = SYSTEM) -> tuple[list[str], list[str]]:
    """The sweep's part: discard every use refused or lapsed and not yet discarded. Returns (discarded deployment
    ids, failures)."""
    done, failures = [], []
    for deployment_id in authorisation.to_discard(conn):
        why = ("external authorisation refused (finished by the sweep)"
               if authorisation.state(conn, deployment_id) == AuthorisationState.REFUSED else LAPSED_REASON)
        try:
            discard_use(conn, store, settings, deployment_id, actor, why)
        except (LfrError, psycopg.Error) as e:
            failures.append(f"discarding deployment {deployment_id}: {e}")
            continue
        done.append(str(deployment_id))
    return done, failures
