"""Alerts: a prompt for a human officer, never an automated decision.

Only a face that matched a watchlist entry becomes an alert; its probe crop is the one biometric item
the platform keeps about a passer-by, and only because a human must compare it with the watchlist
image. Every alert, adjudication, hold and deletion is audited; alerts past the retention period are
deleted (crops too) unless on legal hold.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from lfr_core.alerts import queries
from lfr_core.alerts.model import (
    DISPOSALS,
    ENGAGED,
    ENGAGEMENTS,
    LEGACY_ENGAGEMENTS,
    NO_FACES,
    OUTCOMES,
    AlertStatus,
    Disposal,
    Engagement,
    FaceBands,
    Outcome,
    Verification,
    verification,
)
from lfr_core.audit import log as audit
from lfr_core.db.rows import get_by_id
from lfr_core.errors import InvalidInput, NotFound, Refused
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError, ObjectStoreUnavailable, parse_s3_uri
from lfr_core.watchlist import queries as watchlist_queries
from lfr_core.watchlist.model import PurgeVerificationFailed, VersionState


@dataclass(frozen=True)
class NewAlert:
    deployment_id: uuid.UUID
    version_id: uuid.UUID
    subject_ref: str
    category: str
    score: float
    camera_id: str
    track_id: str
    captured_at: datetime
    watchlist_image_uri: str | None


def raise_alert(conn: psycopg.Connection, store: ObjectStore, bucket: str, alert: NewAlert, probe_crop_jpeg: bytes,
                actor: Actor, *, alert_id: uuid.UUID | None = None) -> dict[str, Any]:
    """Store the alert, its probe crop and its audit record together, or none of them (the EU AI Act Art
    12(3)(c) input data that matched is in the record). Idempotent by `alert_id`: a retry stores it once.

    The row is inserted first, the crop uploaded inside that transaction, the audit row appended last (it
    takes the chain's lock, so not across the upload): an upload that fails rolls the row back, and a commit
    that fails deletes the crop again, so no crop is ever left without its row.

    With the object store down, the crop is held in PostgreSQL instead (`held_alert_crops`), written in one
    transaction with the row and the audit record, and `move_held_crops` moves it to the store once it is
    back: an alert that the camera is told about is durable at once, whichever process dies next. Its
    `probe_crop_uri` names where the crop will be. With PostgreSQL down nothing is stored, and the caller
    takes the decision back (lfr_core/live/pipeline.py)."""
    alert_id = alert_id or uuid.uuid4()
    key = f"{alert.deployment_id}/{alert_id}.jpg"
    try:
        with acting(conn, actor):
            row = _insert_alert(conn, alert, alert_id, f"s3://{bucket}/{key}")
            if row is None:  # stored by an earlier try
                return get_alert(conn, alert_id)
            store.delete_prefix(bucket, key)  # what a failed earlier try may have left: one crop per alert
            crop = store.put_bytes(bucket, key, probe_crop_jpeg, "image/jpeg")
            _audit_raised(conn, actor, alert_id, alert, crop.sha256)
    except ObjectStoreUnavailable:
        return _raise_with_crop_held(conn, alert, probe_crop_jpeg, actor, alert_id, f"s3://{bucket}/{key}")
    except psycopg.Error:
        _forget_crop(store, bucket, key)
        raise
    return row


def _insert_alert(conn: psycopg.Connection, alert: NewAlert, alert_id: uuid.UUID, crop_uri: str) -> dict[str, Any] | None:
    return queries.insert_alert(
        conn, alert_id, deployment_id=alert.deployment_id, version_id=alert.version_id, subject_ref=alert.subject_ref,
        category=alert.category, score=alert.score, camera_id=alert.camera_id, track_id=alert.track_id,
        captured_at=alert.captured_at, probe_crop_uri=crop_uri, watchlist_image_uri=alert.watchlist_image_uri)


def _audit_raised(conn: psycopg.Connection, actor: Actor, alert_id: uuid.UUID, alert: NewAlert, crop_sha256: str,
                  **held: object) -> None:
    audit.append(conn, actor=actor.name, role=actor.role, action="alert.raise", object_type="alert",
                 object_id=str(alert_id), details={
                     "deployment_id": str(alert.deployment_id), "version_id": str(alert.version_id),
                     "subject_ref": alert.subject_ref, "score": round(alert.score, 4),
                     "camera_id": alert.camera_id, "captured_at": alert.captured_at.isoformat(),
                     "probe_crop_sha256": crop_sha256, **held,
                 })


def _raise_with_crop_held(conn: psycopg.Connection, alert: NewAlert, probe_crop_jpeg: bytes, actor: Actor,
                          alert_id: uuid.UUID, crop_uri: str) -> dict[str, Any]:
    """The alert, its audit record and its crop, all in PostgreSQL, in one transaction."""
    sha256 = hashlib.sha256(probe_crop_jpeg).hexdigest()
    with acting(conn, actor):
        row = _insert_alert(conn, alert, alert_id, crop_uri)
        if row is None:  # stored by an earlier try
            return get_alert(conn, alert_id)
        queries.hold_crop(conn, alert_id, probe_crop_jpeg, sha256)
        _audit_raised(conn, actor, alert_id, alert, sha256, probe_crop_held="object store unavailable")
    return row


def move_held_crops(conn: psycopg.Connection, store: ObjectStore, actor: Actor, *, limit: int = 100) -> int:
    """Move probe crops held in PostgreSQL to the object store, oldest first, each exactly once: in one
    transaction per crop, the held row is locked (another mover skips it), the crop uploaded to the key its
    alert names (clearing what an earlier try that died after its upload left there) and the held row
    deleted. Returns how many moved; ObjectStoreUnavailable while the store is still down (what moved
    before it stays moved)."""
    moved = 0
    while moved < limit:
        with acting(conn, actor):
            held = queries.take_oldest_held_crop(conn)
            if held is None:
                return moved
            bucket, key = parse_s3_uri(held.probe_crop_uri)
            store.delete_prefix(bucket, key)
            crop = store.put_bytes(bucket, key, bytes(held.crop), "image/jpeg")
            queries.delete_held_crop(conn, held.alert_id)
            audit.append(conn, actor=actor.name, role=actor.role, action="alert.crop_moved", object_type="alert",
                         object_id=str(held.alert_id), details={
                             "deployment_id": str(held.deployment_id), "probe_crop_sha256": crop.sha256,
                             "held_since": held.held_at.isoformat()})
        moved += 1
    return moved


def held_crop(conn: psycopg.Connection, alert_id: uuid.UUID | str) -> bytes | None:
    """The probe crop of an alert while it waits in PostgreSQL for the object store, else None. Read with
    the service's own rights (people have none on the table): the caller has checked that the person may see
    the alert and logs the consultation before handing it over (ray_apps/ingress/officers.py)."""
    return queries.held_crop(conn, alert_id)


def held_crop_count(conn: psycopg.Connection) -> int:
    return queries.held_crop_count(conn)


def _forget_crop(store: ObjectStore, bucket: str, key: str) -> None:
    """After a failed commit the crop goes with its row; if the store is unreachable now, a retry of the same
    alert clears it before uploading again, and retention deletes what the alert's key names."""
    with contextlib.suppress(ObjectStoreError):
        store.delete_prefix(bucket, key)


def release_kept_image(conn: psycopg.Connection, store: ObjectStore, alert: dict[str, Any], actor: Actor,
                       why: str) -> bool:
    """Inside the caller's transaction: once no pending alert needs the watchlist image a purge kept for
    `alert` (lfr_core/workflow/purge.py), delete it (audited). True if an object was deleted."""
    uri = alert.get("watchlist_image_uri")
    if not uri:
        return False
    state = watchlist_queries.version_state(conn, alert["version_id"])
    if state not in (VersionState.PURGING, VersionState.PURGED) or queries.other_pending_alert_shows(
            conn, uri, alert["id"]):
        return False
    bucket, key = parse_s3_uri(uri)
    store.delete_keys(bucket, [key])
    if any(found == key for found, _ in store.list_keys(bucket, key, versions=True)):
        raise PurgeVerificationFailed(f"{uri} survived its deletion; the alert decision was not committed")
    queries.forget_watchlist_image(conn, uri)
    audit.append(conn, actor=actor.name, role=actor.role, action="watchlist.image_released",
                 object_type="watchlist_version", object_id=str(alert["version_id"]),
                 details={"alert_id": str(alert["id"]), "image_uri": uri, "why": why})
    return True


def list_alerts(conn: psycopg.Connection, deployment_id: uuid.UUID | str, *, status: str | None = None,
                limit: int = 200) -> list[dict[str, Any]]:
    try:
        key = uuid.UUID(str(deployment_id))
    except ValueError as e:
        raise NotFound(f"deployment id {deployment_id!r} is not a UUID") from e
    return queries.alerts_with_rationale(conn, key, status=status, limit=limit)


def get_alert_view(conn: psycopg.Connection, alert_id: uuid.UUID | str) -> dict[str, Any]:
    """One alert as `list_alerts` shows it."""
    get_alert(conn, alert_id)  # NotFound for an unknown or hidden alert
    row = queries.alert_with_rationale(conn, alert_id)
    if row is None:
        raise NotFound(f"no alert {alert_id}")
    return row


# What the second verifier must not see of the first assessment before deciding (issue 28 item 2).
_FIRST_ASSESSMENT = {"status": AlertStatus.PENDING, "adjudicated_by": None, "adjudicated_at": None, "outcome": None}


def as_seen_by(row: dict[str, Any], viewer: str) -> dict[str, Any]:
    """An alert as `list_alerts` or `get_alert_view` gave it, as the console and the API show it to `viewer`, with
    where it stands under two-person verification (`verification`). While it awaits its second verifier, the first
    assessment is shown only to the officer who made it: to anyone else the alert is pending, awaiting their own
    assessment, so that the second decides without knowing the first."""
    stands = verification(row["status"], row.get("second_status"), bool(row.get("two_person")))
    seen = {**row, "verification": str(stands)}
    if stands == Verification.AWAITING_SECOND and row["adjudicated_by"] != viewer:
        seen.update(_FIRST_ASSESSMENT)
    return seen


def last_alerts(conn: psycopg.Connection, deployment_id: uuid.UUID, camera_id: str, since: datetime) -> dict[str, float]:
    """Subject -> capture time (epoch seconds) of the last alert on this camera since `since`: the cooldowns
    a camera carries to whichever ingress replica it reaches (the alert log is the source of truth)."""
    return {ref: at.timestamp() for ref, at in queries.last_alert_times(conn, deployment_id, camera_id, since).items()}


def get_alert(conn: psycopg.Connection, alert_id: uuid.UUID | str, *, lock: bool = False) -> dict[str, Any]:
    return get_by_id(conn, "alerts", alert_id, lock=lock)


def adjudicate(conn: psycopg.Connection, store: ObjectStore, alert_id: uuid.UUID | str, outcome: str, actor: Actor,
               note: str = "") -> dict[str, Any]:
    """The viability assessment of a pending alert (issue 28 item 1): confirmed (the match is viable) or declined
    (not viable: a false alert, unconfirmed). not_engaged is a viable match officers decided not to engage: the
    assessment and that result together. A watchlist image that a purge kept for this decision is deleted with it."""
    actor.require("operator", "admin", to="adjudicate an alert")
    if outcome not in OUTCOMES:
        raise InvalidInput(f"unknown outcome {outcome!r}; choose one of: {', '.join(OUTCOMES)}")
    status = AlertStatus.CONFIRMED if outcome == Outcome.NOT_ENGAGED else AlertStatus(outcome)
    with acting(conn, actor):
        alert = get_alert(conn, alert_id, lock=True)
        two_person = queries.two_person(conn, alert["deployment_id"])
        if two_person and outcome == Outcome.NOT_ENGAGED:
            raise Refused(f"alert {alert_id} needs two officers' verification before any result: judge the match "
                          "viable (confirmed) or not (declined); the result follows both verifications")
        if two_person and alert["status"] != AlertStatus.PENDING and alert["second_status"] is None:
            return {**_verify_second(conn, store, alert, status, actor, note), "two_person": True}
        if alert["status"] != AlertStatus.PENDING:
            # Under two-person verification neither officer's assessment is named to the other.
            raise Refused(f"alert {alert_id} was already adjudicated" + (
                " by two officers" if two_person else f" ({alert['status']} by {alert['adjudicated_by']})"))
        # The alert's trigger writes the audit row (alert.<status>) with the note.
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={"note": note})
        row = queries.decide(conn, alert["id"], status, actor.name, note or None)
        if outcome == Outcome.NOT_ENGAGED:  # the result is its own change: the trigger checks it after the assessment
            audit.describe_change(conn, actor=actor.name, role=actor.role, details={"note": note})
            row = queries.record_engagement(conn, alert["id"], Engagement.NOT_ENGAGED, None, actor.name, note or None)
        # Under two-person verification the second officer still compares the faces: the image waits for them.
        if not two_person and release_kept_image(conn, store, alert, actor,
                                                 f"alert {alert['id']} adjudicated ({outcome})"):
            row["watchlist_image_uri"] = None
    return {**row, "two_person": two_person}


def _verify_second(conn: psycopg.Connection, store: ObjectStore, alert: dict[str, Any], verdict: AlertStatus,
                   actor: Actor, note: str) -> dict[str, Any]:
    """The second officer's own assessment of an alert the first has assessed (issue 28 item 2), inside the caller's
    transaction; the database refuses the first officer, an unassigned one, or a second try."""
    if alert["adjudicated_by"] == actor.name:
        raise Refused(f"you made the first assessment of alert {alert['id']}; a second officer verifies it")
    audit.describe_change(conn, actor=actor.name, role=actor.role, details={"note": note})  # alert.second.<verdict>
    row = queries.verify_second(conn, alert["id"], verdict, actor.name)
    if release_kept_image(conn, store, alert, actor, f"alert {alert['id']} verified ({verdict})"):
        row["watchlist_image_uri"] = None
    return row


def engagement_of(result: str, disposal: str | None) -> tuple[Engagement, Disposal | None]:
    """The engagement result and its outcome, checked; a name from before migration 0025 (arrested, spoken_to,
    no_further_action, misidentified) stands for both."""
    if result in LEGACY_ENGAGEMENTS and disposal is None:
        return LEGACY_ENGAGEMENTS[result]
    if result not in ENGAGEMENTS:
        raise InvalidInput(f"unknown engagement result {result!r}; choose one of: {', '.join(ENGAGEMENTS)}")
    if disposal is not None and disposal not in DISPOSALS:
        raise InvalidInput(f"unknown outcome {disposal!r}; choose one of: {', '.join(DISPOSALS)}")
    engaged = result in ENGAGED
    if engaged != (disposal is not None):
        raise InvalidInput(f"the result {result} takes " + (f"an outcome ({', '.join(DISPOSALS)})" if engaged
                                                            else "no outcome: the person was not engaged"))
    return Engagement(result), None if disposal is None else Disposal(disposal)


def undo(conn: psycopg.Connection, alert_id: uuid.UUID | str, actor: Actor) -> dict[str, Any]:
    """Take back one's own decision within the undo window (`public.lfr_undo_window()`, checked by the
    database), before an engagement is recorded: the alert is pending again."""
    actor.require("operator", "admin", to="undo a decision on an alert")
    with acting(conn, actor):
        alert = get_alert(conn, alert_id, lock=True)
        if alert["status"] == AlertStatus.PENDING:
            raise Refused(f"alert {alert_id} has no decision to undo")
        refused = undo_refusal(alert, actor, queries.undo_window_s(conn), datetime.now(UTC))
        if refused:
            raise Refused(refused)
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={})  # its trigger: alert.undone
        row = queries.clear_decision(conn, alert["id"])
    return row


def undo_refusal(alert: dict[str, Any], actor: Actor, window_s: float, now: datetime) -> str | None:
    """Which of the undo's conditions fails, in words, or None. The database checks all three again
    (policy/50_alerts.sql) but can only list them; the officer needs to know which one they met."""
    if alert.get("second_status") is not None:
        return f"the decision on alert {alert['id']} can no longer be undone: a second officer has verified it"
    if alert["engagement"] is not None:
        return (f"the decision on alert {alert['id']} can no longer be undone: its outcome "
                f"({str(alert['engagement']).replace('_', ' ')}) is recorded")
    if alert["adjudicated_by"] != actor.name:
        return (f"the decision on alert {alert['id']} was made by {alert['adjudicated_by']}: only they may undo it; "
                f"ask them, or record a note")
    if alert["adjudicated_at"] is not None and now - alert["adjudicated_at"] > timedelta(seconds=window_s):
        return (f"the decision on alert {alert['id']} can no longer be undone: the undo window of {window_s:g} s "
                f"after the decision has passed")
    return None


def undo_window_s(conn: psycopg.Connection) -> float:
    return queries.undo_window_s(conn)


def record_engagement(conn: psycopg.Connection, alert_id: uuid.UUID | str, engagement: str, actor: Actor,
                      note: str = "", disposal: str | None = None) -> dict[str, Any]:
    """The engagement result after a viable match (subject, someone_else, evaded, not_engaged) and, when the
    person was engaged, its outcome (arrest, other, no_action); recorded once."""
    actor.require("operator", "admin", to="record what came of an engagement")
    result, outcome = engagement_of(engagement, disposal)
    with acting(conn, actor):
        alert = get_alert(conn, alert_id, lock=True)
        if alert["status"] != AlertStatus.CONFIRMED or alert["engagement"]:
            raise Refused(f"alert {alert_id} is {alert['status']}"
                          + (f" with the result {alert['engagement']} already recorded" if alert["engagement"] else "")
                          + "; a result is recorded once, after the match is judged viable (confirmed)")
        stands = verification(alert["status"], alert["second_status"], queries.two_person(conn, alert["deployment_id"]))
        if stands not in (Verification.NOT_REQUIRED, Verification.VERIFIED):
            raise Refused(f"alert {alert_id} is {stands}: under two-person verification no result is recorded before "
                          "two officers have each judged the match viable")
        # its trigger: alert.engagement.<result> with the outcome and the note
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={"note": note})
        row = queries.record_engagement(conn, alert["id"], result, outcome, actor.name, note or None)
    return row


def set_legal_hold(conn: psycopg.Connection, alert_id: uuid.UUID | str, hold: bool, actor: Actor, reason: str) -> dict[str, Any]:
    actor.require("admin", to="change a legal hold")
    if not reason.strip():
        raise InvalidInput("a legal hold change needs a reason")
    with acting(conn, actor):
        alert = get_alert(conn, alert_id, lock=True)
        # its trigger: alert.hold or alert.release, with the reason
        audit.describe_change(conn, actor=actor.name, role=actor.role, details={"reason": reason})
        row = queries.set_legal_hold(conn, alert["id"], hold)
    return row


def delete_expired(conn: psycopg.Connection, store: ObjectStore, retention_days: int, actor: Actor,
                   *, now: datetime | None = None) -> dict[str, int]:
    """Delete alerts (and their crops) past their retention, except those on legal hold. The retention is the
    deployment's pack's (retention.alerts_days); `retention_days` (the setting) is the fallback for a deployment
    planned before packs existed."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=retention_days)
    with acting(conn, actor):
        doomed = queries.expired_alerts(conn, now, retention_days)
        held = queries.held_past_retention(conn, now, retention_days)
        crops = 0
        for alert in doomed:
            release_kept_image(conn, store, alert, actor, f"alert {alert['id']} deleted by retention")
            if alert["probe_crop_uri"]:
                bucket, key = parse_s3_uri(alert["probe_crop_uri"])
                crops += store.delete_prefix(bucket, key)
        # A crop still held in PostgreSQL (the store was down when it was raised) goes with its alert.
        crops += queries.delete_held_crops(conn, [a["id"] for a in doomed])
        queries.delete_alerts(conn, [a["id"] for a in doomed])
        audit.append(conn, actor=actor.name, role=actor.role, action="alert.retention_delete", object_type="alerts",
                     object_id=cutoff.isoformat(), details={"deleted": len(doomed), "crops_deleted": crops,
                                                            "kept_on_hold": held, "retention_days": retention_days,
                                                            "alert_ids": [str(a["id"]) for a in doomed],
                                                            "retention_days_by_deployment": {
                                                                str(a["deployment_id"]): a["retention_days"]
                                                                for a in doomed}})
    return {"deleted": len(doomed), "crops_deleted": crops, "kept_on_hold": held}


def record_counts(conn: psycopg.Connection, deployment_id: uuid.UUID | str, camera_id: str, *, frames: int,
                  faces_seen: int, frames_refused: int = 0, frames_dropped: int = 0, bands: FaceBands = NO_FACES,
                  reliable_face_px: int | None = None, frames_not_sent: int = 0) -> None:
    """Add to a camera's running totals: numbers only, nothing about any face. `bands`: the faces seen by whether
    they could have been recognised, against `reliable_face_px`; `frames_not_sent`: frames the camera read and did
    not send, as it reported them."""
    with conn.transaction():
        queries.add_counts(conn, deployment_id, camera_id, frames=frames, faces_seen=faces_seen,
                           frames_refused=frames_refused, frames_dropped=frames_dropped, bands=bands,
                           reliable_face_px=reliable_face_px, frames_not_sent=frames_not_sent)
