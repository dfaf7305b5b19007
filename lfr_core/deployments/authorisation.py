"""External prior authorisation of a use and the urgency path (issue 27 item 3; Regulation (EU) 2024/1689 Art 5(3)).

Under a pack that requires it (`external_authorisation.required`, eu-ai-act), each use is authorised beforehand by
a judicial or independent administrative authority; an authoriser of the platform records that decision. In a
duly justified urgency the use may start without it, once an authoriser records the urgent start and its
justification: the database arms a deadline of the pack's `urgency_hours`. The database refuses activation
without either (lfr_core/db/policy/40_watchlist.sql), and a refusal stops the use in its own transaction; the
discarding of the use's data is lfr_core/workflow/discard.py.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import psycopg

from lfr_core.audit import log as audit
from lfr_core.deployments import queries
from lfr_core.deployments.model import AUTHORITY_KINDS, AuthorisationState
from lfr_core.errors import InvalidInput
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.times import format_time


def _text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise InvalidInput(f"{what} is required")
    return value.strip()


def state(conn: psycopg.Connection, deployment_id: uuid.UUID) -> AuthorisationState:
    return AuthorisationState(queries.authorisation_state(conn, deployment_id))


def record_lines(conn: psycopg.Connection, deployment_id: uuid.UUID) -> list[tuple[str, str]]:
    """Where the use stands with external authorisation, as a (label, text) line for the approval body; none where
    the pack requires no authorisation."""
    current = state(conn, deployment_id)
    if current is AuthorisationState.NOT_REQUIRED:
        return []
    rows = queries.authorisations(conn, deployment_id)
    decided = next((r for r in rows if r["kind"] in ("granted", "refused")), None)
    urgent = next((r for r in rows if r["kind"] == "urgent_start"), None)
    label = "External authorisation"
    if current is AuthorisationState.GRANTED and decided is not None:
        return [(label, f"authorised by {decided['authority']} ({decided['authority_kind'] or 'kind not recorded'}, "
                        f"{decided['decision_ref']}, {decided['decided_on']}, "
                        f"scope: {decided['scope']}); recorded by {decided['recorded_by']}")]
    if current is AuthorisationState.REFUSED and decided is not None:
        return [(label, f"refused by {decided['authority']} ({decided['decision_ref']}): the use is stopped and its "
                        "data discarded; nothing approved here goes live")]
    if current is AuthorisationState.URGENT and urgent is not None:
        return [(label, f"urgent start by {urgent['recorded_by']} ({urgent['justification']}), the authority's "
                        f"decision due by {format_time(urgent['deadline'], seconds=False)}; without it the use stops "
                        "and its data is discarded")]
    if current is AuthorisationState.LAPSED and urgent is not None:
        return [(label, f"lapsed: no decision by the urgent start's deadline "
                        f"{format_time(urgent['deadline'], seconds=False)}; the use is stopped and its data discarded")]
    return [(label, "not yet authorised: the list goes live only once an authoriser records the authority's "
                    "decision (`lfr deployment authorise ID`) or an urgent start")]


def record_decision(conn: psycopg.Connection, deployment_id: uuid.UUID, actor: Actor, *, authority: str,
                    authority_kind: str, decision_ref: str, decided_on: date | None = None,
                    scope: str | None = None, refused: bool = False) -> dict[str, Any]:
    """The authority's decision, in the authoriser's own name (audited as `deployment.authorised` or
    `deployment.authorisation_refused`). `authority_kind`: judicial or administrative (Art 5(3)). A grant names
    its date and scope; a refusal stops the use at once."""
    actor.require("authoriser", to="record an external authorisation")
    authority, decision_ref = _text(authority, "--authority"), _text(decision_ref, "--decision-ref")
    if authority_kind not in AUTHORITY_KINDS:
        raise InvalidInput(f"--authority-kind {authority_kind!r}: Art 5(3) names two kinds, "
                           f"{' or '.join(AUTHORITY_KINDS)} (an independent administrative authority whose decision "
                           "binds)")
    if not refused:
        if decided_on is None:
            raise InvalidInput("--date is required: the day the authority decided")
        scope = _text(scope, "--scope")
    else:
        scope = scope.strip() if scope and scope.strip() else None
    with acting(conn, actor):
        audit.describe_change(conn, actor=actor.name, role="authoriser", details={})
        return queries.insert_authorisation(conn, deployment_id, "refused" if refused else "granted", actor.name,
                                            authority=authority, authority_kind=authority_kind,
                                            decision_ref=decision_ref, decided_on=decided_on, scope=scope)


def urgent_start(conn: psycopg.Connection, deployment_id: uuid.UUID, actor: Actor, justification: str) -> dict[str, Any]:
    """Record an urgent start with its justification; the database sets the deadline from the pack (24 hours in
    eu-ai-act) by which the authority's decision must be recorded."""
    actor.require("authoriser", to="record an urgent start")
    text = _text(justification, "--justification")
    with acting(conn, actor):
        audit.describe_change(conn, actor=actor.name, role="authoriser", details={})
        return queries.insert_authorisation(conn, deployment_id, "urgent_start", actor.name, justification=text)


def summary(conn: psycopg.Connection, deployment_id: uuid.UUID) -> dict[str, Any]:
    """The state, the recorded decisions and urgent start, and the deletion receipt if the use was discarded."""
    return {"state": str(state(conn, deployment_id)),
            "records": queries.authorisations(conn, deployment_id),
            "deletion_receipt": queries.deletion_receipt(conn, deployment_id)}


def discarded(conn: psycopg.Connection) -> set[uuid.UUID]:
    """Deployments whose use was discarded; their results are published nowhere."""
    return queries.discarded_deployments(conn)


def discard_rows(conn: psycopg.Connection, deployment_id: uuid.UUID, reason: str) -> dict[str, Any]:
    """Inside the caller's `acting` transaction: the database deletes a refused or lapsed use's alerts, held crops,
    reviews and counters and writes the receipt (it refuses any other use); returns the receipt."""
    return queries.discard_use(conn, deployment_id, reason)


def to_discard(conn: psycopg.Connection) -> list[uuid.UUID]:
    """Deployments whose authorisation was refused or lapsed and whose use is not yet discarded."""
    return queries.uses_to_discard(conn)
