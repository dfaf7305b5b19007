"""The public notice carries the deployment record (issue 27 item 2): the use case with its policy reference, the
times and the duration given in advance (Home Office LFR SOP); a notice withheld for a critical threat needs a
recorded reason, and the deployment is not public until its window opens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.deployments import service as deployments
from lfr_core.errors import NotFound
from lfr_core.reporting import public_record
from tests.conftest import PLANNER, make_deployment


def test_duration_words():
    start = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    assert public_record.duration_words(start, start + timedelta(hours=4, minutes=47)) == "4 hours 47 minutes"
    assert public_record.duration_words(start, start + timedelta(hours=1)) == "1 hour"
    assert public_record.duration_words(start, start + timedelta(minutes=30)) == "30 minutes"


def test_the_notice_shows_the_use_case_times_and_duration(db, services):
    dep = make_deployment(db, services, length_s=2.5 * 3600)
    note = public_record.notice(db, services, dep["id"])
    assert note["use_case"] == "Specific intelligence on the location of sought persons (Met LFR policy §2.9)"
    assert note["duration"] == "2 hours 30 minutes" and note["notice_withheld"] is False
    page = public_record.render_page(note, None)
    assert "Use case: Specific intelligence on the location of sought persons (Met LFR policy §2.9)" in page
    assert "(2 hours 30 minutes)" in page


def test_a_withheld_notice_has_a_reason_and_is_public_only_once_the_window_opens(db, services):
    start = datetime.now(UTC) + timedelta(hours=1)
    terms = {"place": "Withheld Road", "purpose": "p", "legal_basis": "b", "intelligence_ref": "INT-W",
             "window_start": start, "window_end": start + timedelta(hours=2), "authorising_officer": "Supt X",
             "use_case": "event_protective_security", "location_rationale": "credible threat to this event"}
    blank = deployments.validate_spec({**terms, "notice_withheld_reason": "   "}, services)
    assert blank.notice_withheld_reason is None  # a blank reason withholds nothing
    spec = deployments.validate_spec({**terms, "notice_withheld_reason": "critical threat: CT-2026-11"}, services)
    dep = deployments.create(db, spec, PLANNER, services)
    assert dep["notice_withheld_reason"] == "critical threat: CT-2026-11"
    with pytest.raises(NotFound):
        public_record.notice(db, services, dep["id"])
    assert dep["id"] not in {r["id"] for r in public_record.public_deployments(db)}
