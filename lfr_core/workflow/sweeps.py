"""Scheduled safety nets behind the deployment workflow: the reconciling sweep and alert retention.

A deployment's own DAG run activates its list at the window start, and expires, purges and reports at its
end. The platform does not depend on that run surviving (issue 31): the sweep, every minute
(dags/lfr_deployment_reconcile.py) and on the expiry timer (dags/lfr_watchlist_expiry.py), finishes what a
run left undone, for every deployment:

- an approved list of a planned deployment goes live inside its window;
- a list active outside its window is taken down at once;
- once the window has ended (plus `watchlist.expiry_grace_minutes`, 0 by default), or the deployment was
  cancelled, every version not yet purged is expired and purged with a receipt;
- a deployment whose window ended without it going live lapses (`deployment.lapsed`, with the reason);
- a closed deployment whose report was not published after its window gets it published, once;
- a use under a pack that notifies each use (Art 5(4)) whose window ended gets its notification written if the
  run died before writing it, or rewritten as "stopped" if the use was discarded after it was written;
- a use refused by the authority, or whose urgency deadline passed without a decision (Art 5(3)), is discarded
  with its receipt (lfr_core/workflow/discard.py), and a list that needs an authorisation it lacks is not taken
  live.

Each step runs under the deployment's `finishing` lock and reads the state again first, so the run and the
sweep never both do it, and a sweep with nothing to do reads one query and writes nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from lfr_core.alerts import service as alerts
from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import queries as audit_queries
from lfr_core.config import Settings
from lfr_core.deployments import authorisation
from lfr_core.deployments import service as deployments
from lfr_core.errors import Incomplete, LfrError
from lfr_core.identity.model import SYSTEM, Actor
from lfr_core.identity.roles import acting
from lfr_core.reporting import notification, reports
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist import queries as watchlist_queries
from lfr_core.workflow.discard import discard_stopped_uses
from lfr_core.workflow.purge import purge

OUTSIDE_WINDOW = "found active outside its window"


class SweepIncomplete(Incomplete):
    """Some deployments could not be finished; the others were, and the next sweep retries these."""


def final_report_published(conn: psycopg.Connection, deployment: dict[str, Any]) -> bool:
    """Whether a report was published once the window was over (earlier ones were provisional snapshots)."""
    return audit_queries.logged_since(conn, object_type="deployment", object_id=str(deployment["id"]),
                                      action="report.publish", since=deployment["window_end"])


def lapsed_because(conn: psycopg.Connection, deployment_id: str | uuid.UUID) -> str | None:
    """The reason recorded when the deployment lapsed (its `deployment.lapsed` audit row), if it did."""
    return audit_queries.latest_detail(conn, object_type="deployment", object_id=str(deployment_id),
                                       action="deployment.lapsed", key="reason")


def lapse_reason(versions: list[dict[str, Any]], deployment: dict[str, Any]) -> str:
    ended = f"the window ended at {deployment['window_end'].isoformat()}"
    if not versions:
        return f"{ended} before a watchlist was built"
    if not any(v["approved_by"] and v["state"] != "draft" for v in versions):
        return f"{ended} before any authoriser approved the watchlist"
    return f"{ended} without the approved watchlist going live"


def finish_deployment(conn: psycopg.Connection, store: ObjectStore, settings: Settings,
                      deployment_id: str | uuid.UUID, *, now: datetime | None = None,
                      actor: Actor = SYSTEM) -> dict[str, list[str | None]]:
    """Bring one deployment to where its clock says it should be (see the module's docstring); safe to run
    any number of times, by any number of actors at once. Every decision is checkpointed at once: `lfr audit
    verify` fails on a decision row left uncovered for longer than `audit.decision_checkpoint_minutes`."""
    now = now or datetime.now(UTC)
    grace = timedelta(minutes=settings.watchlist.expiry_grace_minutes)
    done: dict[str, list[str | None]] = {k: [] for k in ("activated", "deactivated", "expired", "purged", "receipts",
                                                  "lapsed", "reports_published")}
    with deployments.finishing(conn, deployment_id):
        dep = deployments.get(conn, deployment_id)
        versions = lifecycle.list_versions(conn, dep["id"])
        cancelled = dep["status"] == "cancelled"
        inside = dep["window_start"] <= now < dep["window_end"]
        ended = now >= dep["window_end"]
        states = {str(v["id"]): v["state"] for v in versions}
        for vid, state in states.items():
            if state == "active" and not inside:
                lifecycle.expire(conn, vid, actor, reason=OUTSIDE_WINDOW)
                done["deactivated"].append(vid)
                states[vid] = "expired"
                audit_checkpoints.checkpoint(conn, store, settings)
        approved = [vid for vid, state in states.items() if state == "approved"]
        if (dep["status"] == "planned" and inside and approved and "active" not in states.values()
                and authorisation.state(conn, dep["id"]).may_go_live):
            # The run that should have activated it died: the list goes live all the same.
            audit_checkpoints.checkpoint(conn, store, settings)  # the approval is sealed before it goes live
            lifecycle.activate(conn, approved[-1], actor, now=now)
            done["activated"].append(approved[-1])
            states[approved[-1]] = "active"
            audit_checkpoints.checkpoint(conn, store, settings)
        if ended and dep["status"] == "planned":
            reason = lapse_reason(versions, dep)
            with acting(conn, actor):
                deployments.set_status(conn, dep["id"], "lapsed", actor, reason)
            done["lapsed"].append(str(dep["id"]))
            dep = {**dep, "status": "lapsed", "lapse_reason": reason}
            audit_checkpoints.checkpoint(conn, store, settings)
        if cancelled or now >= dep["window_end"] + grace:
            why = (f"deployment cancelled: {dep['cancel_reason']} (finished by the expiry sweep)" if cancelled
                   else f"deployment lapsed: {dep['lapse_reason']}" if dep.get("lapse_reason")
                   else f"window ended at {dep['window_end'].isoformat()}")
            for vid, state in states.items():
                if state == "purged":
                    continue
                if state in ("approved", "active"):
                    lifecycle.expire(conn, vid, actor, reason=why)
                    done["expired"].append(vid)
                # A draft never sealed goes straight to purging; everything else is expired by now.
                receipt = purge(conn, store, settings, vid, actor, reason=why)
                done["purged"].append(vid)
                done["receipts"].append(receipt.get("receipt_uri"))
                states[vid] = "purged"
                audit_checkpoints.checkpoint(conn, store, settings)
        status = deployments.get(conn, dep["id"])["status"]
        if ended and status == "live" and "active" not in states.values():  # its list was taken down by hand
            with acting(conn, actor):
                deployments.set_status(conn, dep["id"], "closed", actor, f"window ended at {dep['window_end'].isoformat()}")
            status = "closed"
        if (status == "closed" and ended and all(s == "purged" for s in states.values())
                and not final_report_published(conn, dep) and dep["id"] not in authorisation.discarded(conn)):
            # A use discarded under Art 5(3) publishes no results: its receipt stands in their place.
            reports.publish_report(conn, store, settings, str(dep["id"]), actor)
            done["reports_published"].append(str(dep["id"]))
    return done


def sweep_watchlists(conn: psycopg.Connection, store: ObjectStore, settings: Settings, *,
                     now: datetime | None = None, actor: Actor = SYSTEM) -> dict[str, Any]:
    """Finish every deployment that has something left to do (see `finish_deployment`), then republish the
    provisional reports whose last pending alert was decided."""
    now = now or datetime.now(UTC)
    grace = timedelta(minutes=settings.watchlist.expiry_grace_minutes)
    # The deployments with something left to do: one indexed query, as it runs every minute.
    due = [str(d) for d in watchlist_queries.deployments_due(conn, now=now, grace=grace)]
    result: dict[str, Any] = {k: [] for k in ("activated", "deactivated", "expired", "purged", "receipts", "lapsed",
                                              "reports_published")}
    discarded, failures = discard_stopped_uses(conn, store, settings, actor=actor)
    for deployment_id in due:
        try:
            done = finish_deployment(conn, store, settings, deployment_id, now=now, actor=actor)
        except (LfrError, psycopg.Error) as e:  # an outage, a refusal or a purge left unverified
            failures.append(f"deployment {deployment_id}: {e}")
            continue
        for key, items in done.items():
            result[key] += items
    try:
        republished = reports.republish_settled_reports(conn, store, settings, actor)
    except (LfrError, psycopg.Error) as e:
        republished = []
        failures.append(f"republishing settled reports: {e}")
    notified = publish_missing_notifications(conn, store, settings, now=now, actor=actor, failures=failures)
    result.update(checked=len(due), reports_republished=republished, discarded=discarded, failures=failures,
                  notifications_published=notified)
    if failures:
        raise SweepIncomplete(f"{len(failures)} of {len(due)} deployments not finished: " + "; ".join(failures)
                              + f" (done: {result})")
    return result


def publish_missing_notifications(conn: psycopg.Connection, store: ObjectStore, settings: Settings, *,
                                  now: datetime, actor: Actor, failures: list[str]) -> list[str]:
    """Write the notification of each ended use that lacks its current one (the DAG's `notify_use` died, or the
    use was discarded after it ran); once: a use whose notification is current is not written again. Looks back
    as far as alerts are kept, the longest a use's outputs may need withdrawing."""
    done: list[str] = []
    try:
        due = notification.missing(conn, now=now, lookback=timedelta(days=settings.alerts.retention_days))
    except (LfrError, psycopg.Error) as e:
        failures.append(f"finding missing notifications: {e}")
        return done
    for deployment_id in due:
        try:
            with deployments.finishing(conn, deployment_id):
                dep = deployments.get(conn, deployment_id)
                if notification.current(conn, dep, dep["id"] in authorisation.discarded(conn)):
                    continue  # another sweep or the DAG wrote it meanwhile
                notification.publish(conn, store, settings, deployment_id, actor)
        except (LfrError, psycopg.Error) as e:
            failures.append(f"notifying the use of deployment {deployment_id}: {e}")
            continue
        done.append(deployment_id)
    return done


def apply_alert_retention(conn: psycopg.Connection, store: ObjectStore, settings: Settings, *,
                          now: datetime | None = None, actor: Actor = SYSTEM) -> dict[str, int]:
    """Delete alerts past their deployment's pack's retention (`alerts.retention_days` for one planned before packs
    existed); those on legal hold are kept."""
    return alerts.delete_expired(conn, store, settings.alerts.retention_days, actor, now=now)
