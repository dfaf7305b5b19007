"""Glue between the Airflow DAGs and the domain library: one plain function per DAG task.

Each function opens its own connection from settings, is safe to run again (a retried task finds the
state it left and returns it), and returns JSON-serialisable values for XCom. Errors a planner can fix
(`InvalidInput`, `Refused`, `NotFound`) propagate unchanged so the DAG can fail without retrying.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.config import Settings
from lfr_core.db.connection import connect
from lfr_core.deployments import authorisation
from lfr_core.deployments import queries as deployment_queries
from lfr_core.deployments import service as deployments
from lfr_core.deployments.model import AuthorisationState
from lfr_core.errors import InvalidInput, Refused
from lfr_core.identity import people
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.reporting import notification, reports
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist import queries as watchlist_queries
from lfr_core.watchlist.manifest import MAX_MANIFEST_BYTES, parse_manifest
from lfr_core.watchlist.sources import claim, policy_for
from lfr_core.workflow import sweeps, trigger
from lfr_core.workflow.cancel import cancel_deployment
from lfr_core.workflow.purge import purge

SPEC_FIELDS = ("place", "purpose", "legal_basis", "intelligence_ref", "window_start", "window_end",
               "authorising_officer", "allowed_categories", "threshold", "policy", "use_case", "location_rationale",
               "dpia_ref", "eia_ref", "fria_ref", "registration_ref", "notice_withheld_reason")


class ApprovalTimedOut(Refused):
    """No authoriser approved the draft in time; the draft was purged and the deployment cancelled."""


class DeploymentCancelled(Refused):
    """The deployment was cancelled (`lfr deployment cancel`): its DAG run ends, skipping what is left."""


class DeploymentLapsed(Refused):
    """The window ended without the deployment going live (no approval in time): it lapsed, its draft was
    purged, and its DAG run fails with this reason, without retrying."""


class AuthorisationRefused(Refused):
    """The use's external authorisation was refused, or its urgency deadline passed without a decision: it never
    goes live (the database stopped it; lfr_core/workflow/discard.py discards its data)."""


def _require_not_cancelled(deployment: Mapping[str, Any]) -> None:
    if deployment["status"] == "cancelled":
        raise DeploymentCancelled(f"deployment {deployment['id']} was cancelled: {deployment['cancel_reason']}")


def lapse_if_over(settings: Settings, deployment_id: str, *, now: datetime | None = None) -> None:
    """Once the window has ended with nothing live, finish the deployment (it lapses, its draft is purged) and
    raise DeploymentLapsed with the reason; before that, or for a deployment that went live, nothing."""
    now = now or datetime.now(UTC)
    with connect(settings) as conn:
        deployment = deployments.get(conn, deployment_id)
        if deployment["status"] not in ("planned", "lapsed") or now < deployment["window_end"]:
            return
        sweeps.finish_deployment(conn, ObjectStore(settings), settings, deployment_id, now=now)
        reason = sweeps.lapsed_because(conn, deployment_id)
    raise DeploymentLapsed(f"deployment {deployment_id} lapsed: {reason}; nothing went live and its watchlist "
                           f"was purged")


def _deployment_summary(row: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    return {"deployment_id": str(row["id"]), "window_start": row["window_start"].isoformat(),
            "window_end": row["window_end"].isoformat(), "status": row["status"], **extra}


# Who triggered a run that no signed-in person triggered: `airflow dags test` / `dag.test()` record this.
TEST_TRIGGER = "dag_test"


def run_planner(params: Mapping[str, Any], triggering_user: str | None) -> str:
    """The planner of a DAG run: the signed-in Airflow user who triggered it, never a name typed into the form.

    A run nobody signed in for (`airflow dags test`, as the embedded demo and the tests run it) may name its
    planner only in demo mode."""
    named = str(params.get("planner") or "").strip()
    user = (triggering_user or "").strip()
    if user and user != TEST_TRIGGER:
        if named and named != user:
            raise InvalidInput(f"planner: this run was triggered by {user!r}; it cannot be built in the name of "
                               f"{named!r}")
        return user
    if named and params.get("demo"):
        return named
    raise InvalidInput("planner: a deployment must be triggered by a signed-in planner (the run records who "
                       "triggered it); a typed name is accepted only for a demo run")


def planner_actor(conn: psycopg.Connection, name: str) -> Actor:
    """The run's planner as a person of the platform, with the role the database gives them: an Airflow user
    who is not a planner here is refused before anything is read or built."""
    actor = people.person(conn, name, "planner", "admin")
    actor.require("planner", "admin", to="plan a deployment or build its watchlist")
    return actor


def create_deployment_from_params(settings: Settings, params: Mapping[str, Any], *, planner: str,
                                  now: datetime | None = None) -> dict[str, Any]:
    """Validate the request and its manifest completely, then create the deployment (and nothing on failure).

    The run's first task: whatever the form's schema cannot check (a window in the past, an end before the
    start, a window too long, a manifest missing or unreadable, a planner who is not one, a conf option out of
    bounds) is refused here, before anything is created or built. The manifest is the staged folder's picked in
    the form (`staged_folder`) or one named in the conf (`manifest_uri`).
    Idempotent: a retry finds the deployment the same planner already created for the same terms."""
    options = trigger.run_options(params)
    staged = str(params.get("staged_folder") or "").strip()
    named = options.manifest_uri.strip()
    if staged and named and staged != named:
        raise InvalidInput(f"two manifests were given: the staged folder's {staged!r} and the conf's manifest_uri "
                           f"{named!r}; give one")
    manifest_uri = staged or named
    if not manifest_uri:
        raise InvalidInput("no custody images were chosen: pick the staged folder that holds them and their manifest "
                           "(the conf may name the manifest as manifest_uri instead)")
    if not manifest_uri.startswith("s3://") and not os.path.isabs(manifest_uri.removeprefix("file://")):
        raise InvalidInput(f"manifest_uri {manifest_uri!r} is a relative path; a DAG run has no working directory "
                           f"of yours: give an absolute path or s3://bucket/key (image paths inside it may be "
                           f"relative to the manifest)")
    raw = {k: params.get(k) for k in SPEC_FIELDS if params.get(k) is not None}
    with connect(settings) as conn:
        actor = planner_actor(conn, planner)
        try:
            spec = deployments.DeploymentSpec.model_validate(raw)
        except Exception:  # noqa: BLE001 - validate_spec below reports the problem in full
            spec = None
        if spec is not None:
            existing = deployment_queries.planned_deployment(
                conn, created_by=planner, intelligence_ref=spec.intelligence_ref, place=spec.place,
                window_start=spec.window_start, window_end=spec.window_end)
            if existing:
                return _deployment_summary(existing, manifest_uri=manifest_uri, planner=planner, reused=True)
        try:
            spec = deployments.validate_spec(raw, settings, now=now)
        except InvalidInput as e:
            raise InvalidInput(f"{_window_asked(settings, raw)}{e}") from e
        store = ObjectStore(settings) if manifest_uri.startswith("s3://") else None
        sources = policy_for(settings, manifest_uri)
        _, categories = deployments.under_pack(conn, spec, settings)  # the pack's refusal before the manifest's
        rows = parse_manifest(sources.read(manifest_uri, store, MAX_MANIFEST_BYTES), manifest_uri,
                              categories, max_images_per_subject=settings.watchlist.max_images_per_subject)
        with conn.transaction():  # the deployment and its claim on the staging folder, or neither
            row = deployments.create(conn, spec, actor, settings)
            claim(conn, sources, row["id"])
        return _deployment_summary(row, manifest_uri=manifest_uri, planner=planner, manifest_entries=len(rows),
                                   reused=False)


def _window_asked(settings: Settings, raw: Mapping[str, Any]) -> str:
    """The window as the planner entered it, in the force's time zone, to open a refusal's message ('' if it
    cannot be read)."""
    try:
        start, end = (datetime.fromisoformat(str(raw[k])) for k in ("window_start", "window_end"))
    except (KeyError, ValueError):
        return ""
    if start.tzinfo is None or end.tzinfo is None:
        return ""
    return f"the window {trigger.in_force_time(settings, start)} to {trigger.in_force_time(settings, end)}: "


def build_watchlist(settings: Settings, deployment_id: str, manifest_uri: str, planner: str,
                    build_key: str) -> dict[str, Any]:
    """Build the draft (batched by `watchlist.build_batch`); a retry with the same key returns the same version.

    What it returns (a task's XCom) and raises (a task's log) counts the entries and their rejections by
    reason and names no subject: the list is read, entry by entry, in the approval's brief, `lfr watchlist
    show` and the audit view. A build that accepts no entry cancels the deployment (there is nothing to
    approve) and fails with the count of each reason."""
    from lfr_core.vision.engine import build_engine
    from lfr_core.watchlist.build import build_version, find_by_build_key

    with connect(settings) as conn:
        actor = planner_actor(conn, planner)
        engine = None if find_by_build_key(conn, deployment_id, build_key) else build_engine(settings)
        version = build_version(conn, ObjectStore(settings), engine, settings, deployment_id=deployment_id,
                                manifest_uri=manifest_uri, actor=actor, build_key=build_key)
        rejections = rejection_counts(version["entries"])
        if version["entries_accepted"] == 0:
            reasons = "\n  ".join(f"{n} x {reason}" for reason, n in rejections.items())
            cancel_deployment(conn, ObjectStore(settings), settings, deployment_id, SYSTEM,
                              f"no manifest entry was accepted by build v{version['version']}")
            raise InvalidInput(f"no entry of {version['manifest_uri']} was accepted, so there is nothing to approve; "
                               f"the deployment was cancelled. Rejections:\n  {reasons}")
    return {
        "deployment_id": str(version["deployment_id"]), "version_id": str(version["id"]),
        "version": version["version"], "state": version["state"], "built_by": version["built_by"],
        "manifest_sha256": version["manifest_sha256"], "entries_total": version["entries_total"],
        "entries_accepted": version["entries_accepted"], "entries_rejected": version["entries_rejected"],
        "threshold": version["threshold"], "threshold_source": version["threshold_source"],
        "rejections": rejections,
    }


def rejection_counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    """How many entries were rejected for each reason, most frequent first (no subject named)."""
    counts = Counter(e["reason"] or "rejected" for e in entries if e["status"] != "accepted")
    return dict(counts.most_common())


def approval_deadline(settings: Settings, version_id: str, timeout_minutes: float | None = None) -> datetime:
    """When the wait for an approval ends: the approval timeout (counted from the build) or the window's end,
    whichever comes first (the database refuses an approval once the window has ended)."""
    timeout = timedelta(minutes=timeout_minutes or settings.watchlist.approval_timeout_minutes)
    with connect(settings) as conn:
        version = lifecycle.get_version(conn, version_id)
        deployment = deployments.get(conn, version["deployment_id"])
    return min(version["built_at"] + timeout, deployment["window_end"])


def approval_settled(settings: Settings, version_id: str) -> bool:
    """Whether there is nothing left to wait for: the draft was sealed or purged, or its deployment is no longer
    planned (cancelled, lapsed). One cheap read, for the trigger that waits for it
    (airflow_plugins/lfr_triggers.py)."""
    with connect(settings) as conn:
        found = watchlist_queries.version_and_deployment_state(conn, version_id)
    return found is None or found.state != "draft" or found.deployment_status != "planned"


def wait_for_approval_state(settings: Settings, version_id: str, timeout_minutes: float | None = None,
                            *, now: datetime | None = None, waited_out: bool = False) -> dict[str, Any] | None:
    """One look: the sealed version once approved, None while it is a draft that may still be approved.

    The timeout counts from the build (database time), so it holds across deferrals and retries; on timeout
    the draft is purged with a receipt and the deployment cancelled, then ApprovalTimedOut. Once the window
    has ended no approval can come (the database refuses it): the deployment lapses, then DeploymentLapsed.
    `waited_out`: the caller's wait ended at `approval_deadline` (a Required Action timed out): no more waiting."""
    timeout = timedelta(minutes=timeout_minutes or settings.watchlist.approval_timeout_minutes)
    now = now or datetime.now(UTC)
    with connect(settings) as conn:
        version = lifecycle.get_version(conn, version_id)
        deployment = deployments.get(conn, version["deployment_id"])
        _require_not_cancelled(deployment)
        if version["state"] in ("approved", "active", "expired"):
            return {"version_id": str(version["id"]), "deployment_id": str(version["deployment_id"]),
                    "version": version["version"], "state": version["state"], "approved_by": version["approved_by"],
                    "criteria_sha256": version["criteria_sha256"]}
        if version["state"] in ("purging", "purged") and deployment["status"] != "lapsed":
            raise Refused(f"version {version_id} was purged before it was approved")
        lapse_if_over(settings, str(deployment["id"]), now=now)
        if now - version["built_at"] < timeout and not waited_out:
            return None
        reason = f"approval timed out after {timeout} (no authoriser approved the draft)"
        cancelled = cancel_deployment(conn, ObjectStore(settings), settings, str(version["deployment_id"]), SYSTEM,
                                      reason)
    raise ApprovalTimedOut(f"version {version_id}: {reason}; draft purged, receipts {cancelled['receipts']}")


def authorisation_settled(settings: Settings, deployment_id: str, *, now: datetime | None = None) -> bool:
    """Whether the wait for the use's external authorisation is over: it was granted, refused or lapsed, an urgent
    start was recorded, the pack needs none, the deployment is no longer waiting to go live, or its window ended.
    One cheap read, for the trigger that waits for it (airflow_plugins/lfr_triggers.py)."""
    with connect(settings) as conn:
        deployment = deployments.get(conn, deployment_id)
        state = authorisation.state(conn, deployment["id"])
    return (state is not AuthorisationState.MISSING or deployment["status"] not in ("planned", "active")
            or (now or datetime.now(UTC)) >= deployment["window_end"])


def wait_for_authorisation_state(settings: Settings, deployment_id: str, *,
                                 now: datetime | None = None) -> str | None:
    """One look before activation (issue 27 item 3): None while the pack's external authorisation is awaited
    inside the window; the state once the list may go live (`granted`, `urgent`, `not_required`), or `missing`
    once the window has ended without it (activation then reports the list not activated). A refusal, or an
    urgency deadline passed without a decision, raises AuthorisationRefused with the authority's reference."""
    with connect(settings) as conn:
        deployment = deployments.get(conn, deployment_id)
        _require_not_cancelled(deployment)
        state = authorisation.state(conn, deployment["id"])
        if state.stopped:
            lines = authorisation.record_lines(conn, deployment["id"])
            raise AuthorisationRefused(f"deployment {deployment_id} did not go live: its external authorisation "
                                       f"is {lines[0][1]}")
    if state.may_go_live or (now or datetime.now(UTC)) >= deployment["window_end"]:
        return str(state)
    return None


def seconds_to_window(settings: Settings, deployment_id: str, edge: str, *, now: datetime | None = None) -> float:
    """Seconds until the deployment's window starts (edge='start') or ends (edge='end'); <= 0 once it has."""
    if edge not in ("start", "end"):
        raise InvalidInput(f"edge must be 'start' or 'end', not {edge!r}")
    with connect(settings) as conn:
        deployment = deployments.get(conn, deployment_id)
    _require_not_cancelled(deployment)
    return (deployment[f"window_{edge}"] - (now or datetime.now(UTC))).total_seconds()


def window_edge(settings: Settings, deployment_id: str, edge: str) -> datetime:
    """When the deployment's window starts (edge='start') or ends (edge='end')."""
    if edge not in ("start", "end"):
        raise InvalidInput(f"edge must be 'start' or 'end', not {edge!r}")
    with connect(settings) as conn:
        deployment = deployments.get(conn, deployment_id)
    _require_not_cancelled(deployment)
    return deployment[f"window_{edge}"]


def activate_version(settings: Settings, version_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """Activate inside the window; already active is success, and a window already over is reported, not forced.
    Under the deployment's `finishing` lock: the reconciling sweep may be activating it at the same moment."""
    now = now or datetime.now(UTC)
    with connect(settings) as conn:
        version = lifecycle.get_version(conn, version_id)
        with deployments.finishing(conn, version["deployment_id"]):
            return _activate(conn, settings, version_id, now)


def _activate(conn: psycopg.Connection, settings: Settings, version_id: str, now: datetime) -> dict[str, Any]:
    version = lifecycle.get_version(conn, version_id)
    deployment = deployments.get(conn, version["deployment_id"])
    _require_not_cancelled(deployment)
    summary = {"version_id": str(version["id"]), "deployment_id": str(deployment["id"])}
    if version["state"] == "active":
        return {**summary, "state": "active", "note": "already active"}
    if version["state"] in ("expired", "purging", "purged") or now >= deployment["window_end"]:
        return {**summary, "state": version["state"],
                "note": f"not activated: version is {version['state']} and the window ends {deployment['window_end']}"}
    store = ObjectStore(settings)
    audit_checkpoints.checkpoint(conn, store, settings)  # the approval is sealed before the list goes live
    row = lifecycle.activate(conn, version_id, SYSTEM, now=now)
    audit_checkpoints.checkpoint(conn, store, settings)
    return {**summary, "state": row["state"], "activated_at": row["activated_at"].isoformat()}


def expire_version(settings: Settings, version_id: str, *, reason: str = "window ended") -> dict[str, Any]:
    """Deactivate at window end; a version already expired or purged (e.g. by the sweep) is left as it is."""
    with connect(settings) as conn:
        version = lifecycle.get_version(conn, version_id)
        with deployments.finishing(conn, version["deployment_id"]):
            version = lifecycle.get_version(conn, version_id)
            if version["state"] in ("active", "approved"):
                version = lifecycle.expire(conn, version_id, SYSTEM, reason=reason)
                # Sealed at once, as every decision is: `lfr audit verify` fails on a decision left uncovered.
                audit_checkpoints.checkpoint(conn, ObjectStore(settings), settings)
        return {"version_id": str(version["id"]), "state": version["state"],
                "expired_at": version["expired_at"].isoformat() if version["expired_at"] else None}


def purge_version(settings: Settings, version_id: str, *, reason: str = "deployment window ended") -> dict[str, Any]:
    """Purge with proof; a version already purged returns its stored receipt."""
    with connect(settings) as conn:
        store = ObjectStore(settings)
        version = lifecycle.get_version(conn, version_id)
        with deployments.finishing(conn, version["deployment_id"]):
            already = lifecycle.get_version(conn, version_id)["state"] == "purged"
            receipt = purge(conn, store, settings, version_id, SYSTEM, reason=reason)  # or its stored receipt
            if not already:
                audit_checkpoints.checkpoint(conn, store, settings)
        return receipt


# The asset every DAG that publishes a report emits; its events carry the same extra whichever DAG it was.
REPORT_ASSET = {"name": "lfr_report_published", "uri": "report://lfr/published"}


def publish_report(settings: Settings, deployment_id: str, *, once: bool = False) -> dict[str, Any]:
    """The published report (URIs, hash, Markdown), with `summary`, what the task hands on, and `event`, the
    extra of its REPORT_ASSET event. `once` (a deployment run's own report): a report the reconciling sweep
    already published after the window is read back, not published again."""
    store = ObjectStore(settings)
    with connect(settings) as conn:
        if once:
            with deployments.finishing(conn, deployment_id):
                deployment = deployments.get(conn, deployment_id)
                published = (reports.read_published(store, settings, deployment_id)
                             if sweeps.final_report_published(conn, deployment)
                             else reports.publish_report(conn, store, settings, deployment_id))
        else:
            published = reports.publish_report(conn, store, settings, deployment_id)
    published["summary"] = {k: published[k] for k in ("json_uri", "markdown_uri", "json_sha256", "report")}
    published["event"] = {"deployment_id": deployment_id, "json_uri": published["json_uri"],
                          "markdown_uri": published["markdown_uri"]}
    return published


def notify_use(settings: Settings, deployment_id: str) -> dict[str, Any]:
    """After the window (Art 5(4)): the notification of this use and its year's statistics, when the deployment's
    pack requires one; otherwise `{"required": False}` and nothing is written. A use discarded under Art 5(3) gets
    the notification saying only that it was stopped and its outputs deleted (`use_stopped`), with no results."""
    with connect(settings) as conn:
        if not notification.required(conn, deployment_id):
            return {"required": False, "deployment_id": deployment_id}
        published = notification.publish(conn, ObjectStore(settings), settings, deployment_id)
    return {"required": True, "deployment_id": deployment_id, "use_stopped": "stopped" in published["notification"],
            **{k: published[k] for k in ("json_uri", "pdf_uri", "annual_uri", "json_sha256")}}


def sweep_watchlists(settings: Settings) -> dict[str, Any]:
    with connect(settings) as conn:
        store = ObjectStore(settings)
        result = sweeps.sweep_watchlists(conn, store, settings)
        result["audit_checkpoint"] = audit_checkpoints.checkpoint(conn, store, settings)
        return result


def reconcile_deployments(settings: Settings) -> dict[str, Any]:
    """The every-minute sweep: each decision it takes is checkpointed as it is taken, and nothing else is
    written, so a minute with nothing to do costs one query (no checkpoint object every minute)."""
    with connect(settings) as conn:
        return sweeps.sweep_watchlists(conn, ObjectStore(settings), settings)


def apply_alert_retention(settings: Settings) -> dict[str, int]:
    with connect(settings) as conn:
        return sweeps.apply_alert_retention(conn, ObjectStore(settings), settings)


def deployment_conf(*, place: str, manifest_uri: str, planner: str, window_start: datetime, window_end: datetime,
                    threshold: float | None = None, purpose: str = "Locate people wanted by the court",
                    legal_basis: str = "Common law policing powers; force LFR policy v1",
                    intelligence_ref: str = "INT-DEMO-0001", authorising_officer: str = "Supt A. Example",
                    allowed_categories: list[str] | None = None, demo: bool = True, poke_interval_s: int = 1,
                    approval_timeout_minutes: float | None = None, approve_with: str = "cli",
                    policy: str = "uk-app", use_case: str = "sought_persons",
                    location_rationale: str = "Intelligence places the people on the list at this place in the window",
                    dpia_ref: str | None = "DPIA-DEMO-0001", eia_ref: str | None = "EIA-DEMO-0001",
                    fria_ref: str | None = None, registration_ref: str | None = None) -> dict[str, Any]:
    """A conf dict for the `lfr_deployment` DAG (used by the demo and the tests; headless unless
    `approve_with` is "airflow"). The categories default to those the use case permits."""
    return {
        "place": place, "purpose": purpose, "legal_basis": legal_basis, "intelligence_ref": intelligence_ref,
        "window_start": window_start.isoformat(), "window_end": window_end.isoformat(),
        "authorising_officer": authorising_officer, "manifest_uri": manifest_uri, "threshold": threshold,
        "policy": policy, "use_case": use_case, "location_rationale": location_rationale, "dpia_ref": dpia_ref,
        "eia_ref": eia_ref, "fria_ref": fria_ref, "registration_ref": registration_ref,
        "allowed_categories": list(allowed_categories) if allowed_categories else None, "planner": planner, "demo": demo,
        "poke_interval_s": poke_interval_s, "approval_timeout_minutes": approval_timeout_minutes,
        "approve_with": approve_with,
    }


def approve_when_built(settings: Settings, intelligence_ref: str, authoriser: Actor, *, timeout_s: float = 600.0,
                       poll_s: float = 0.5) -> dict[str, Any]:
    """Demo and test helper: wait for the draft of the deployment with this intelligence reference, then approve
    it as `authoriser` (who must not be its builder). Raises TimeoutError if no draft appears in time."""
    import time

    deadline = time.monotonic() + timeout_s
    with connect(settings) as conn:
        while time.monotonic() < deadline:
            draft = watchlist_queries.latest_draft_by_reference(conn, intelligence_ref)
            if draft is not None:
                approved = lifecycle.approve(conn, str(draft), authoriser)
                audit_checkpoints.checkpoint(conn, ObjectStore(settings), settings)  # every decision, at once
                return approved
            time.sleep(poll_s)
    raise TimeoutError(f"no draft watchlist for {intelligence_ref} appeared within {timeout_s:.0f}s")
