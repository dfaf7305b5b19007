"""The adjudication model (issue 28 item 1) without a service: which of the Met's four counts a decision makes, the
results an engagement takes with its outcome, and the replay of the audit log's actions, old names included."""

from __future__ import annotations

import pytest

from lfr_core.alerts.model import LEGACY_ENGAGEMENTS, AlertClass, Verification, alert_class, verification
from lfr_core.alerts.service import engagement_of
from lfr_core.errors import InvalidInput
from lfr_core.reporting.tally import replay


@pytest.mark.parametrize(("status", "result", "expected"), [
    ("declined", None, AlertClass.FALSE_UNCONFIRMED),
    ("confirmed", "subject", AlertClass.TRUE_CONFIRMED),
    ("confirmed", "someone_else", AlertClass.FALSE_CONFIRMED),
    ("confirmed", "evaded", AlertClass.TRUE_UNCONFIRMED),
    ("confirmed", "not_engaged", AlertClass.TRUE_UNCONFIRMED),
    ("confirmed", None, None),  # viable, its result not recorded yet
    ("pending", None, None),
])
def test_each_decision_falls_in_one_count(status, result, expected):
    assert alert_class(status, result) == expected


def test_an_engagement_takes_an_outcome_exactly_when_the_person_was_engaged():
    assert engagement_of("subject", "arrest") == ("subject", "arrest")
    assert engagement_of("evaded", None) == ("evaded", None)
    for result, outcome in (("subject", None), ("someone_else", None), ("evaded", "arrest"), ("not_engaged", "other"),
                            ("subject", "jailed"), ("caught", None)):
        with pytest.raises(InvalidInput):
            engagement_of(result, outcome)
    # The old names stand for a result and its outcome.
    assert {old: engagement_of(old, None) for old in LEGACY_ENGAGEMENTS} == {
        "arrested": ("subject", "arrest"), "spoken_to": ("subject", "other"),
        "no_further_action": ("subject", "no_action"), "misidentified": ("someone_else", "no_action")}


def test_the_log_replays_old_and_new_actions_alike():
    logged = [("a", "alert.raise", None), ("a", "alert.confirmed", None), ("a", "alert.engagement.arrested", None),
              ("b", "alert.raise", None), ("b", "alert.not_engaged", None),
              ("c", "alert.raise", None), ("c", "alert.confirmed", None), ("c", "alert.undone", None),
              ("c", "alert.declined", None),
              ("d", "alert.raise", None), ("d", "alert.confirmed", None),
              ("d", "alert.engagement.someone_else", "other"),
              ("e", "alert.raise", None), ("e", "alert.confirmed", None),
              ("f", "alert.raise", None), ("f", "alert.confirmed", None), ("f", "alert.second.confirmed", None),
              ("f", "alert.engagement.subject", "arrest")]
    assert replay(logged) == {
        "a": {"status": "confirmed", "engagement": "subject", "disposal": "arrest", "second_status": None},
        "b": {"status": "confirmed", "engagement": "not_engaged", "disposal": None, "second_status": None},
        "c": {"status": "declined", "engagement": None, "disposal": None, "second_status": None},
        "d": {"status": "confirmed", "engagement": "someone_else", "disposal": "other", "second_status": None},
        "e": {"status": "confirmed", "engagement": None, "disposal": None, "second_status": None},
        "f": {"status": "confirmed", "engagement": "subject", "disposal": "arrest", "second_status": "confirmed"}}


def test_two_person_verification_says_where_an_alert_stands_and_a_second_decline_is_a_false_alert():
    assert verification("pending", None, two_person=True) == Verification.AWAITING_FIRST
    assert verification("confirmed", None, two_person=True) == "awaiting second verifier"
    assert verification("declined", None, two_person=True) == Verification.AWAITING_SECOND
    assert verification("confirmed", "confirmed", two_person=True) == Verification.VERIFIED
    assert verification("confirmed", "declined", two_person=True) == Verification.NOT_VERIFIED
    assert verification("declined", "confirmed", two_person=True) == Verification.NOT_VERIFIED
    assert verification("confirmed", None, two_person=False) == Verification.NOT_REQUIRED
    assert alert_class("confirmed", None, "declined") == "false_unconfirmed"
    assert alert_class("confirmed", "subject", "confirmed") == "true_confirmed"
