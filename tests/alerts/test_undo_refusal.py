"""An undo that is refused says which of its three conditions failed (issue 31 item 8): the console printed
"can be undone only by X, within 30 s of it and before an engagement is recorded" whichever one it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lfr_core.alerts.service import undo_refusal
from lfr_core.identity.model import Actor

NOW = datetime(2026, 12, 5, 7, 34, 34, tzinfo=UTC)
OFFICER = Actor(name="pc.ada", role="operator")


def decided(**change) -> dict:
    return {"id": "a-1", "status": "confirmed", "adjudicated_by": "pc.ada", "engagement": None,
            "adjudicated_at": NOW - timedelta(seconds=5), **change}


def test_the_decider_within_the_window_may_undo():
    assert undo_refusal(decided(), OFFICER, 30, NOW) is None


def test_after_an_outcome_the_refusal_names_the_outcome_only():
    why = undo_refusal(decided(engagement="arrested"), OFFICER, 30, NOW)
    assert why is not None and "outcome (arrested) is recorded" in why
    assert "window" not in why and "only" not in why


def test_another_officer_is_told_who_decided():
    why = undo_refusal(decided(adjudicated_by="pc.bob"), OFFICER, 30, NOW)
    assert why is not None and "made by pc.bob: only they may undo it" in why and "window" not in why


def test_after_the_window_the_refusal_names_the_window():
    why = undo_refusal(decided(adjudicated_at=NOW - timedelta(seconds=31)), OFFICER, 30, NOW)
    assert why is not None and "undo window of 30 s" in why and "outcome" not in why
