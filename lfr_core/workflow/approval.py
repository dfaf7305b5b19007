"""What an authoriser is asked to approve, who may answer, and what their answer does.

The Airflow approval step (dags/lfr_deployment.py, a human-in-the-loop task under Required Actions) and the
headless `lfr watchlist approve` both end in `lifecycle.approve` run as the answering person, so the
database's four-eyes rule (lfr_core/db/policy/40_watchlist.sql) decides either way; this module only prepares the brief
and carries the answer there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.config import Settings
from lfr_core.db.connection import connect
from lfr_core.deployments import authorisation, cameras, policy_store, thresholds
from lfr_core.deployments import queries as deployment_queries
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, Refused
from lfr_core.evaluation import conditions
from lfr_core.identity import people
from lfr_core.identity.model import SYSTEM
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.times import format_span, format_time
from lfr_core.watchlist import gate, lifecycle
from lfr_core.watchlist import queries as watchlist_queries
from lfr_core.watchlist.build import with_entries
from lfr_core.workflow.cancel import cancel_deployment

APPROVE, REJECT = "Approve", "Reject"
# The approval form's field for an authoriser's reason to seal a list its impostor evidence does not resolve.
EVIDENCE_REASON = "reason"
# The form's fields for running the live gate below the list's reliable face size (issue 32 item 2): the size,
# and the authoriser's reason, recorded as their decision.
GATE_FACE_PX, GATE_REASON = "gate_face_px", "gate_reason"
FORM_FIELDS: tuple[str, ...] = (EVIDENCE_REASON, GATE_FACE_PX, GATE_REASON)


def form_answer(**given: Any) -> dict[str, Any]:
    """An answer to the approval form as its page sends it: every field, empty where not given (Airflow refuses
    an answer whose fields are not exactly the form's)."""
    if unknown := set(given) - set(FORM_FIELDS):
        raise ValueError(f"the approval form has no field {sorted(unknown)}")
    return {name: given.get(name) for name in FORM_FIELDS}
# Where the Airflow API server mounts the authoriser's face view and probe test (airflow_plugins/lfr_watchlist_view.py).
FACES_VIEW = "/lfr-watchlist"


def respondents(conn: psycopg.Connection, deployment: dict[str, Any], built_by: str) -> list[str]:
    """Who may answer: the deployment's assigned authorisers and its authorising officer when that officer is
    a person holding the authoriser role, never the list's builder."""
    names = set(deployment_queries.staff_of(conn, deployment["id"], "authoriser"))
    officer = deployment["authorising_officer"]
    if "authoriser" in people.signed_in_roles(conn, officer):
        names.add(officer)
    return sorted(n for n in names if n != built_by and "authoriser" in people.signed_in_roles(conn, n))


def _body(deployment: dict[str, Any], version: dict[str, Any], delta: dict[str, Any] | None,
          reliable: tuple[int, str], record: list[tuple[str, str]], settings: Settings) -> str:
    """The brief in Markdown (Airflow renders it in the Required Actions dialog)."""
    accepted = [e for e in version["entries"] if e["status"] == "accepted"]
    rejected = [e for e in version["entries"] if e["status"] != "accepted"]
    categories: dict[str, int] = {}
    for e in accepted:
        categories[e["category"]] = categories.get(e["category"], 0) + 1
    embedder, detector = version["embedder"], version["detector"]
    lines = [
        f"**Place:** {deployment['place']}  ",
        f"**Window:** {format_span(deployment['window_start'], deployment['window_end'])}  ",
        f"**Purpose:** {deployment['purpose']}  ",
        f"**Legal basis:** {deployment['legal_basis']}  ",
        f"**Intelligence reference:** {deployment['intelligence_ref']}  ",
        f"**Authorising officer:** {deployment['authorising_officer']}  ",
        *(f"**{label}:** {text}  " for label, text in record),
        "",
        f"### Watchlist version {version['version']} (built by {version['built_by']})",
        f"- Images accepted: **{version['entries_accepted']}**, rejected: **{version['entries_rejected']}**",
        "- Subjects accepted by category: " + (", ".join(f"{c} {n}" for c, n in sorted(categories.items())) or "none"),
        f"- Embedder: {embedder.get('name')} {embedder.get('version', '')} (sha256 {version['embedder_sha256'][:16]}, "
        f"{version['embedding_dim']} dimensions); detector: {detector.get('name')}",
        f"- Threshold: {version['threshold']:.4f} ({version.get('threshold_source') or 'recorded'})",
        f"- {lifecycle.evidence_line(version)}",
        # The live gate and its evidence, as recorded with the list (issue 32 item 2); a list built before the
        # size was recorded shows what the model's latest size curve gives.
        (f"- {gate.reliable_line(version, settings)}" if version.get("reliable_face_px") is not None
         else f"- Reliable face size: {reliable[0]} px ({reliable[1]})"),
        f"- {gate.gate_line(version, settings)}",
        f"- [See the accepted faces and test probe images against this draft]({FACES_VIEW}/{version['id']}/) "
        "(an authoriser assigned to this deployment; each view and test is logged with your reason)",
        "",
        "| subject | image | category | status | reason |",
        "|---|---|---|---|---|",
    ]
    for e in version["entries"]:
        lines.append(f"| {e['subject_ref']} | {e['image_index']} | {e['category']} | {e['status']} | "
                     f"{(e['reason'] or '').replace('|', '/')} |")
    lines.append("")
    # The APP's watchlist rules (issue 27 item 5): each child's written rationale, and what the manifest left open.
    children = {e["subject_ref"]: e["under_18_rationale"] for e in version["entries"] if e.get("under_18_rationale")}
    lines += [f"- **Under 18 at the window's start:** {ref}: {why}" for ref, why in children.items()]
    lines += [f"- Warning: {w}" for w in version.get("warnings", [])]
    if children or version.get("warnings"):
        lines.append("")
    if delta is None:
        lines.append("This is the deployment's first version.")
    else:
        lines.append(f"### Changes since version {delta['from']['version']}")
        lines.append(f"- Added: {', '.join(delta['added']) or 'none'}; removed: {', '.join(delta['removed']) or 'none'}; "
                     f"changed: {', '.join(delta['changed']) or 'none'}"
                     + ("; **the embedding model changed**" if delta["model_changed"] else ""))
    if rejected:
        lines.append("")
        lines.append(f"{len(rejected)} image(s) were rejected and will not be searched for.")
    lines.append("")
    lines.append("Approving seals this list for this deployment's window only; it is purged when the window ends.")
    return "\n".join(lines)


def brief(settings: Settings, version_id: str, timeout_minutes: float | None = None,
          *, now: datetime | None = None) -> dict[str, Any]:
    """The approval request for a draft: subject, Markdown body, respondents, seconds left to answer (until
    the approval times out, counted from the build as `orchestration.wait_for_approval_state` counts, or the
    window ends, after which the database refuses an approval, whichever is first), and the version's state
    (a list already approved headless needs no answer)."""
    timeout = timedelta(minutes=timeout_minutes or settings.watchlist.approval_timeout_minutes)
    with connect(settings) as conn:
        version = with_entries(conn, lifecycle.get_version(conn, version_id))
        deployment = deployments.get(conn, version["deployment_id"])
        previous = watchlist_queries.previous_version_id(conn, version["deployment_id"], version["version"])
        delta = lifecycle.diff(conn, str(previous), version_id) if previous else None
        names = respondents(conn, deployment, version["built_by"])
        reliable = cameras.reliable_face_px(settings, conditions.latest_reliable_size(
            conn, version["embedder_sha256"], gate.deployment_factor(conn, settings, deployment)[0]))
        # The threshold's floor for the list's model and the decision that set it (issue 27 item 4), and where the
        # pack requires it, the use's external authorisation (item 3): an approved list waits for it to go live.
        record = (policy_store.record_lines(conn, deployment)
                  + authorisation.record_lines(conn, deployment["id"])
                  + thresholds.record_lines(
                      conn, deployment, thresholds.Model(version["embedder"].get("name"), version["embedder_sha256"])))
    deadline = min(version["built_at"] + timeout, deployment["window_end"])
    left = (deadline - (now or datetime.now(UTC))).total_seconds()
    return {"state": version["state"], "respondents": names, "seconds_left": left,
            "subject": f"Approve watchlist v{version['version']} for {deployment['place']} "
                       f"({format_time(deployment['window_start'], seconds=False)})",
            "body": _body(deployment, version, delta, reliable, record, settings)
                    + f"\n\nAnswer by {format_time(deadline, seconds=False)}: "
                    + ("the window ends then, and no list can be approved after it." if deadline == deployment["window_end"]
                       else "the request times out then, and the draft is purged.")}


class ApprovalRefused(Refused):
    """The database refused an approval (the window has ended, the deployment was cancelled, ...): the reason
    is the database's, with what became of the deployment."""


def _refused_approval(conn: psycopg.Connection, settings: Settings, version_id: str, refused: Refused) -> Refused:
    """The refusal of an approval, saying why; an approval refused because the window has ended lapses the
    deployment at once (its draft purged), rather than leaving it planned until the sweep."""
    from lfr_core.workflow import sweeps

    deployment = deployments.get(conn, lifecycle.get_version(conn, version_id)["deployment_id"])
    if deployment["status"] == "planned" and datetime.now(UTC) >= deployment["window_end"]:
        sweeps.finish_deployment(conn, ObjectStore(settings), settings, deployment["id"])
        return ApprovalRefused(f"approval refused: {refused}. The deployment has lapsed (nothing went live) and its "
                               f"draft was purged; plan a new deployment with a window in the future")
    return ApprovalRefused(f"approval refused: {refused}")


def answer(settings: Settings, version_id: str, person: str, choice: str, *,
           evidence_override: str | None = None, gate_face_px: int | None = None,
           gate_reason: str | None = None) -> dict[str, Any]:
    """Carry an authoriser's answer to the database as that person. Approve: the version is sealed (the
    four-eyes trigger refuses the builder and anyone without the authoriser role), its live gate first set to
    `gate_face_px` when given (below the reliable face size only with `gate_reason`, the decision recorded in
    their name; a refused gate approves nothing). Reject: the refusal is audited in the authoriser's name, the
    draft purged and the deployment cancelled (the run then fails)."""
    if choice not in (APPROVE, REJECT):
        raise InvalidInput(f"unknown answer {choice!r}; choose {APPROVE} or {REJECT}")
    with connect(settings) as conn:
        actor = people.person(conn, person, "authoriser")
        if choice == APPROVE:
            if gate_face_px is not None:
                gate.set_gate(conn, version_id, actor, gate_face_px, gate_reason or None)
            try:
                sealed = lifecycle.approve(conn, version_id, actor, evidence_override=evidence_override)
            except Refused as refused:
                raise _refused_approval(conn, settings, version_id, refused) from refused
            # Sealed at once, as every decision is: `lfr audit verify` fails on a decision left uncovered.
            audit_checkpoints.checkpoint(conn, ObjectStore(settings), settings)
            return {"version_id": str(sealed["id"]), "deployment_id": str(sealed["deployment_id"]),
                    "version": sealed["version"], "state": sealed["state"], "approved_by": sealed["approved_by"],
                    "criteria_sha256": sealed["criteria_sha256"]}
        actor.require("authoriser", to="reject a watchlist")
        with acting(conn, actor):
            version = lifecycle.get_version(conn, version_id)
            if version["state"] != "draft":
                raise Refused(f"version {version_id} is {version['state']}; only a draft can be rejected")
            audit.append(conn, actor=actor.name, role=actor.role, action="watchlist.rejected",
                         object_type="watchlist_version", object_id=str(version["id"]),
                         details={"deployment_id": str(version["deployment_id"]), "version": version["version"]})
        reason = f"watchlist v{version['version']} rejected by the authoriser {actor.name}"
        cancel_deployment(conn, ObjectStore(settings), settings, str(version["deployment_id"]), SYSTEM, reason)
    return {"version_id": version_id, "state": "rejected", "rejected_by": actor.name}
