"""The deployment-record grid (issue 28 items 1, 4 and 5) on the real PostgreSQL and S3 server: the four counts and
three outcomes of a deployment with a known story (tests/reporting/story.py), the Met's columns in their order and
their arithmetic, the row provisional while a post-deployment review is open, and the page, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.alerts import reviews
from lfr_core.errors import Refused
from lfr_core.reporting import grid, public_record, tally
from lfr_core.times import local
from tests.conftest import ADMIN, AUDITOR, OPERATOR, signed_in_env
from tests.reporting.story import COUNTS, FACES, OUTCOMES, RECOGNISABLE, public_client, scripted_deployment

MET_COLUMNS = ["Deployment Location", "Date", "Duration", "LFR Use Case", "Watchlist Size", "Min Threshold Setting",
               "Total Alerts", "True Alerts Confirmed", "True Alerts Unconfirmed", "False Alerts Confirmed",
               "False Alerts Unconfirmed", "False Alert Rate", "Outcome - Arrest", "Outcome - Other",
               "Outcome - No action", "Faces seen (estimate)"]


def test_the_false_alert_rate_reads_as_the_mets():
    assert grid.false_alert_rate(1, 12_120) == "1 in 12,120 = 0.008%"
    assert grid.false_alert_rate(3, 36_360) == "1 in 12,120 = 0.008%"
    assert grid.false_alert_rate(2, 1_000) == "1 in 500 = 0.200%"
    assert (grid.false_alert_rate(0, 5_000), grid.false_alert_rate(0, 0)) == ("0", "-")
    assert grid.duration(datetime(2026, 1, 1, 9, 0), datetime(2026, 1, 1, 11, 30)) == "2h 30m"


def test_the_counts_and_outcomes_come_out_of_the_scripted_decisions(db, services, store):
    dep, _ = scripted_deployment(db, services, store, "Tally Row")
    t = tally.tally(db, dep)
    assert {str(c): n for c, n in t.classes.items()} == COUNTS
    assert {str(d): n for d, n in t.outcomes.items()} == OUTCOMES
    assert (t.alerts, t.awaiting_decision, t.awaiting_result, t.reconciled, t.reviews_due) == (9, 0, 0, True, 5)
    out = public_record.results(db, dep)
    assert (out["true_alerts"], out["false_alerts"], out["engagements"], out["arrests"]) == (6, 3, 6, 2)


def test_an_alert_awaiting_its_result_or_decision_keeps_the_figures_provisional(db, services, store):
    dep, _ = scripted_deployment(db, services, store, "Awaiting Row",
                                 (("confirmed", None, None), ("pending", None, None)))
    t = tally.tally(db, dep)
    assert (t.alerts, t.awaiting_decision, t.awaiting_result, sum(t.classes.values())) == (2, 1, 1, 0)
    assert t.provisional_reasons == ["1 alert(s) await a decision", "1 alert(s) await the engagement's result"]


def test_the_grid_row_has_the_mets_columns_in_order_and_stays_provisional_until_every_review_is_done(
        db, services, store):
    _, ids = scripted_deployment(db, services, store, "Grid Row")
    since = datetime.now(UTC) - timedelta(hours=3)
    (row,) = [r for r in grid.build(db, since).rows if r["Deployment Location"] == "Grid Row"]
    assert list(row) == [*MET_COLUMNS, "Faces that could have been recognised", "Record"]
    assert row["Faces that could have been recognised"] == RECOGNISABLE
    start = local(datetime.now(UTC) - timedelta(hours=2))
    assert [row[c] for c in MET_COLUMNS] == [
        "Grid Row", f"{start:%d/%m/%Y}", "1h 00m", "not recorded", 5, "0.363", 9, 4, 2, 2, 1,
        "1 in 12,120 = 0.008%", 2, 2, 2, FACES]
    assert row["Record"] == "provisional: 5 of 5 post-deployment review(s) are not done"

    # The reviews: unconfirmed true alerts (6, 7) and false alerts (0, 4, 5); never a confirmed true alert, never
    # by the officer who decided it.
    with pytest.raises(Refused, match="only a true alert left unconfirmed"):
        reviews.assign(db, ids[1], AUDITOR.name, ADMIN)
    with pytest.raises(Refused, match="may not review it"):
        reviews.assign(db, ids[0], OPERATOR.name, ADMIN)
    for i in (0, 4, 5, 6, 7):
        assert reviews.assign(db, ids[i], AUDITOR.name, ADMIN)["reviewer"] == AUDITOR.name
    for i in (0, 4, 5, 6):
        reviews.record(db, ids[i], f"finding {i}: the decision stands", AUDITOR)
    with pytest.raises(Refused, match="is done"):
        reviews.record(db, ids[0], "again", AUDITOR)
    (row,) = [r for r in grid.build(db, since).rows if r["Deployment Location"] == "Grid Row"]
    assert row["Record"] == "provisional: 1 of 5 post-deployment review(s) are not done"
    reviews.record(db, ids[7], "finding 7: officers were right not to engage", AUDITOR)
    built = grid.build(db, since)
    (row,) = [r for r in built.rows if r["Deployment Location"] == "Grid Row"]
    assert row["Record"] == "final"
    logged = db.execute("SELECT action, actor FROM audit.audit_log WHERE object_id = %s AND action LIKE "
                        "'alert.review.%%' ORDER BY seq", (ids[7],)).fetchall()
    assert [(r["action"], r["actor"]) for r in logged] == [("alert.review.assigned", ADMIN.name),
                                                           ("alert.review.done", AUDITOR.name)]

    # The CSV and JSON carry the same row in the same order; the summary counts the year.
    rows = list(csv.reader(io.StringIO(grid.to_csv(built))))
    assert rows[0] == [*MET_COLUMNS, "Faces that could have been recognised", "Record"]
    assert next(r for r in rows[1:] if r[0] == "Grid Row")[6:12] == ["9", "4", "2", "2", "1", "1 in 12,120 = 0.008%"]
    as_json = built.as_json()
    assert as_json["columns"] == [*MET_COLUMNS, "Faces that could have been recognised", "Record"]
    (year,) = [y for y in as_json["summary"] if y["Year"] == f"{start:%Y}"]
    assert year["Deployments"] >= 1 and year["Total Alerts"] >= 9
    page = grid.render_page(built, services.public.force_name)
    assert "Grid Row" in page and "False Alerts Unconfirmed" in page and "STORY-" not in page
    assert OPERATOR.name not in page and "wanted_by_court" not in page


def test_the_grid_is_published_at_public_records_and_printed_by_lfr_report_grid(db, services, store):
    dep, ids = scripted_deployment(db, services, store, "Route Row")
    db.commit()
    client = public_client(db, services)
    today = f"{local(datetime.now(UTC) - timedelta(hours=2)):%Y-%m-%d}"
    as_json = client.get("/public/records", params={"format": "json", "since": today}).json()
    (row,) = [r for r in as_json["rows"] if r["Deployment Location"] == "Route Row"]
    assert as_json["columns"][:16] == MET_COLUMNS and row["False Alert Rate"] == "1 in 12,120 = 0.008%"
    as_csv = client.get("/public/records", params={"format": "csv"})
    assert as_csv.headers["content-type"].startswith("text/csv") and as_csv.text.startswith(",".join(MET_COLUMNS))
    page = client.get("/public/records")
    assert page.headers["content-type"].startswith("text/html") and "Route Row" in page.text
    assert client.get("/public/records", params={"format": "xml"}).status_code == 422

    # The CLI: the grid as CSV for an admin, a review assigned and listed.
    def lfr(*args: str, who: str = ADMIN.name) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lfr_ops.cli.main", *args], capture_output=True, text=True,
                              env={**os.environ, **signed_in_env(services, who)}, timeout=120)

    printed = lfr("report", "grid", "--csv", "--since", today)
    assert printed.returncode == 0, printed.stderr
    (line,) = [r for r in csv.reader(io.StringIO(printed.stdout)) if r[0] == "Route Row"]
    assert line[6:11] == ["9", "4", "2", "2", "1"] and line[-1].startswith("provisional: 5 of 5")
    assert lfr("report", "grid", "--json", who=OPERATOR.name).returncode == 3  # oversight only (Forbidden)
    assigned = lfr("alert", "review", "assign", ids[0], "--reviewer", AUDITOR.name, "--json")
    assert assigned.returncode == 0 and json.loads(assigned.stdout)["alert_class"] == "false_unconfirmed"
    listed = json.loads(lfr("alert", "review", "list", "--deployment", dep, "--json").stdout)
    assert [(r["alert_id"], r["reviewer"], r["finding"]) for r in listed] == [(ids[0], AUDITOR.name, None)]
