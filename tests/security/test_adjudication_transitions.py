"""Issue 28 items 1 and 5 by direct SQL with ordinary logins: the alerts trigger lets a decision move only from the
viability assessment to the engagement result and its outcome, each once, from the state it must come from; a
post-deployment review is assigned by an admin after the window, for an unconfirmed true alert or a false alert, to
someone who took no part in it, and only that reviewer records its finding, once."""

from __future__ import annotations

import psycopg
import pytest

from tests.security.conftest import a_deployment, a_version, direct, superuser

ASSIGNED = "olly.operator"
REFUSED = psycopg.errors.InsufficientPrivilege


def an_alert(settings, dep: str, vid: str, **columns: object) -> str:
    """An alert written as the administrator, in the state `columns` give it."""
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    with superuser(settings) as admin:
        return str(admin.execute(
            f"""INSERT INTO alerts (deployment_id, version_id, subject_ref, category, score, camera_id, track_id,
                                    captured_at{', ' if columns else ''}{names})
                VALUES (%s, %s, 'S-1', 'wanted_suspect', 0.5, 'cam', 't', now(){', ' if columns else ''}{marks})
                RETURNING id""", (dep, vid, *columns.values())).fetchone()["id"])


def attempt(settings, who: str, sql: str, *params: object) -> None:
    with direct(settings, who) as conn, pytest.raises(REFUSED):
        conn.execute(sql, params)


ENGAGE = ("UPDATE alerts SET engagement = %s, disposal = %s, engagement_by = current_user, engagement_at = now() "
          "WHERE id = %s")
DECIDED = {"status": "confirmed", "adjudicated_by": ASSIGNED}


def test_an_engagement_result_follows_a_viable_match_once_with_its_outcome_exactly_when_engaged(services):
    dep = a_deployment(services, operators=(ASSIGNED,))
    vid = a_version(services, dep, "active")
    pending = an_alert(services, dep, vid)
    declined = an_alert(services, dep, vid, status="declined", adjudicated_by=ASSIGNED)
    viable = an_alert(services, dep, vid, **DECIDED)
    attempt(services, ASSIGNED, ENGAGE, "subject", "arrest", pending)  # no assessment yet
    attempt(services, ASSIGNED, ENGAGE, "someone_else", "no_action", declined)  # not viable: nobody was engaged
    # The assessment and the result in one statement skip the state the result comes from.
    attempt(services, ASSIGNED, "UPDATE alerts SET status = 'confirmed', adjudicated_by = current_user, "
            "adjudicated_at = now(), engagement = 'evaded', engagement_by = current_user, engagement_at = now() "
            "WHERE id = %s", pending)
    attempt(services, ASSIGNED, ENGAGE, "subject", None, viable)  # engaged, without its outcome
    attempt(services, ASSIGNED, ENGAGE, "evaded", "arrest", viable)  # an arrest of someone who got away
    with direct(services, "ivy.operator") as conn:  # not assigned: the alert is not even there
        assert conn.execute(ENGAGE, ("subject", "arrest", viable)).rowcount == 0
    attempt(services, ASSIGNED, "UPDATE alerts SET migrated_from = '{}'::jsonb WHERE id = %s", viable)
    with direct(services, ASSIGNED) as conn:
        conn.execute(ENGAGE, ("subject", "arrest", viable))
        conn.commit()
    # Once recorded, neither the result, nor its outcome, nor the assessment under it moves.
    attempt(services, ASSIGNED, "UPDATE alerts SET disposal = 'no_action' WHERE id = %s", viable)
    attempt(services, ASSIGNED, "UPDATE alerts SET engagement = 'someone_else' WHERE id = %s", viable)
    attempt(services, ASSIGNED, "UPDATE alerts SET status = 'declined' WHERE id = %s", viable)
    attempt(services, ASSIGNED, "UPDATE alerts SET status = 'pending', adjudicated_by = NULL, adjudicated_at = NULL, "
            "outcome = NULL WHERE id = %s", viable)
    with superuser(services) as admin:
        row = admin.execute("SELECT status, engagement, disposal FROM alerts WHERE id = %s", (viable,)).fetchone()
        logged = admin.execute("SELECT actor, details->>'disposal' AS d FROM audit.audit_log WHERE object_id = %s "
                               "AND action = 'alert.engagement.subject'", (viable,)).fetchall()
    assert (row["status"], row["engagement"], row["disposal"]) == ("confirmed", "subject", "arrest")
    assert [(r["actor"], r["d"]) for r in logged] == [(ASSIGNED, "arrest")]


REVIEW = "INSERT INTO alert_reviews (alert_id, deployment_id, alert_class, reviewer, assigned_by) " \
         "VALUES (%s, %s, %s, %s, current_user)"


def test_a_review_is_assigned_and_recorded_only_as_the_rules_say(services):
    over = a_deployment(services, status="closed", starts_in_s=-7200, length_s=3600, operators=(ASSIGNED,))
    vid = a_version(services, over, "expired")
    evaded = an_alert(services, over, vid, **DECIDED, engagement="evaded", engagement_by=ASSIGNED)
    confirmed = an_alert(services, over, vid, **DECIDED, engagement="subject", disposal="arrest",
                         engagement_by=ASSIGNED)
    live = a_deployment(services, operators=(ASSIGNED,))
    live_alert = an_alert(services, live, a_version(services, live, "active"), status="declined",
                          adjudicated_by=ASSIGNED)
    attempt(services, ASSIGNED, REVIEW, evaded, over, "true_unconfirmed", "aud.auditor")  # an operator assigns
    attempt(services, "ada.admin", REVIEW, confirmed, over, "true_confirmed", "aud.auditor")  # not reviewed
    attempt(services, "ada.admin", REVIEW, confirmed, over, "true_unconfirmed", "aud.auditor")  # a false class
    attempt(services, "ada.admin", REVIEW, live_alert, live, "false_unconfirmed", "aud.auditor")  # window open
    attempt(services, "ada.admin", REVIEW, evaded, over, "true_unconfirmed", ASSIGNED)  # the decider
    attempt(services, "ada.admin", REVIEW, evaded, over, "true_unconfirmed", "pat.planner")  # not a reviewer
    with direct(services, "ada.admin") as conn:
        conn.execute(REVIEW, (evaded, over, "true_unconfirmed", "aud.auditor"))
        conn.commit()
    done = "UPDATE alert_reviews SET finding = %s, reviewed_at = now() WHERE alert_id = %s"
    with direct(services, "ada.admin") as conn:  # the admin who assigned it is not its reviewer: no row to change
        assert conn.execute(done, ("fine", evaded)).rowcount == 0
    attempt(services, "aud.auditor", "UPDATE alert_reviews SET reviewer = 'ada.admin' WHERE alert_id = %s", evaded)
    with direct(services, "aud.auditor") as conn:
        conn.execute(done, ("the subject left before officers arrived", evaded))
        conn.commit()
    attempt(services, "aud.auditor", done, "changed my mind", evaded)  # once
    attempt(services, "ada.admin", "DELETE FROM alert_reviews WHERE alert_id = %s", evaded)
    with superuser(services) as admin:
        logged = admin.execute("SELECT action, actor FROM audit.audit_log WHERE object_id = %s AND action LIKE "
                               "'alert.review.%%' ORDER BY seq", (evaded,)).fetchall()
        finding = admin.execute("SELECT finding FROM alert_reviews WHERE alert_id = %s", (evaded,)).fetchone()
    assert [(r["action"], r["actor"]) for r in logged] == [("alert.review.assigned", "ada.admin"),
                                                           ("alert.review.done", "aud.auditor")]
    assert finding["finding"] == "the subject left before officers arrived"
