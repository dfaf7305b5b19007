"""Consultations of personal data, logged as the Data Protection Act 2018 s.62 asks of law-enforcement
systems: who looked at which alert list, probe crop or watchlist image, when, and why. A view without a
stated reason is refused, and a view whose record cannot be written is not served (fail closed)."""

from __future__ import annotations

import psycopg

from lfr_core.audit import log as audit
from lfr_core.errors import InvalidInput
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting

WHAT = ("alert_list", "probe_crop", "watchlist_image")
# An authoriser's view of a list's faces and a probe test against it are recorded by the database itself, which
# checks the assignment first (consulted.watchlist_faces|watchlist_probe, lfr_core/watchlist/inspection.py).
MIN_REASON, MAX_REASON = 3, 500


def checked_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise InvalidInput("state why you are viewing this (a reason of at least 3 characters): every consultation "
                           "of personal data is logged with its reason")
    if len(reason) > MAX_REASON or "\x00" in reason:
        raise InvalidInput(f"the reason must be at most {MAX_REASON} characters of text")
    return reason


def record(conn: psycopg.Connection, actor: Actor, what: str, object_type: str, object_id: str, reason: str,
           **details: object) -> None:
    """Append the consultation to the audit log in its own transaction (before the data is handed over)."""
    if what not in WHAT:
        raise ValueError(f"unknown consultation {what!r}")
    with acting(conn, actor):
        audit.append(conn, actor=actor.name, role=actor.role, action=f"consulted.{what}", object_type=object_type,
                     object_id=object_id, details={**details, "reason": checked_reason(reason)})
