"""The transparency report from rows with known counts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.reporting import reports
from lfr_core.storage.objectstore import ObjectStore
from tests.rows import insert_alert, insert_deployment, insert_version


@pytest.fixture()
def finished_deployment(db):
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now - timedelta(hours=3), window_end=now - timedelta(hours=1),
                                   status="closed", place="Report <Square>")
    used = insert_version(db, deployment, state="expired", accepted=3, rejected=1, activated_at=now - timedelta(hours=3),
                          number=2)
    insert_version(db, deployment, state="purged", accepted=7)  # never activated: not part of the list used
    db.execute("""INSERT INTO deployment_counters (deployment_id, camera_id, frames, faces_seen)
                  VALUES (%s, 'cam-1', 1000, 1500), (%s, 'cam-2', 500, 500)""", (deployment, deployment))
    # Two viable matches, the subject engaged and arrested; three not viable; one viable and not engaged (the old
    # not_engaged status, issue 28 item 1); one pending.
    for status, engagement, disposal, n in (("confirmed", "subject", "arrest", 2), ("declined", None, None, 3),
                                            ("confirmed", "not_engaged", None, 1), ("pending", None, None, 1)):
        for _ in range(n):
            insert_alert(db, deployment, used, status=status, engagement=engagement, disposal=disposal)
    db.commit()
    return str(deployment)


def test_report_counts_faces_alerts_outcomes_and_rates(db, finished_deployment):
    report = reports.build_report(db, finished_deployment)
    assert report["watchlist"]["size"] == 3
    assert report["traffic"] == {"cameras": 2, "frames": 1500, "faces_seen": 2000, "frames_refused": 0,
                                 "faces_reliable": 0, "faces_below_reliable": 0, "faces_refused_by_gate": 0,
                                 "faces_not_banded": 2000, "reliable_face_px": []}
    a = report["alerts"]
    assert (a["total"], a["true_alerts"], a["false_alerts"], a["not_engaged"], a["pending"], a["engagements"]) == \
        (7, 3, 3, 1, 1, 2)
    assert a["false_alerts_per_1000_faces"] == pytest.approx(1.5)
    expected = 2000 * (1 - (1 - reports.PROJECTION_FMR_PER_COMPARISON) ** 3)
    assert report["false_alerts"]["projected"] == pytest.approx(expected)
    assert report["false_alerts"]["observed"] == 3


def test_markdown_escapes_free_text_and_shows_the_numbers(db, finished_deployment):
    markdown = reports.render_markdown(reports.build_report(db, finished_deployment))
    assert "Report &lt;Square&gt;" in markdown and "<Square>" not in markdown
    # The window as the force reads it (issue 31 item 8): "05/12/2026 04:34:34 GMT", not ISO 8601 in UTC.
    assert re.search(r"- Window: \d\d/\d\d/\d{4} \d\d:\d\d:\d\d (GMT|BST) to ", markdown), markdown
    assert "| false alerts (declined or someone else) | 3 |" in markdown
    assert "| false alerts per 1,000 faces seen | 1.500 |" in markdown


def test_publish_writes_json_and_markdown_to_the_reports_bucket(db, services, finished_deployment):
    store = ObjectStore(services)
    published = reports.publish_report(db, store, services, finished_deployment)
    assert published["json_uri"] == f"s3://{services.s3.bucket_reports}/reports/{finished_deployment}/report.json"
    stored = json.loads(store.get_uri(published["json_uri"]))
    assert stored["alerts"]["true_alerts"] == 3
    assert store.get_uri(published["markdown_uri"]).decode().startswith("# Transparency report")


def test_report_of_an_unknown_deployment_is_not_found(db):
    from lfr_core.errors import NotFound

    with pytest.raises(NotFound):
        reports.build_report(db, "00000000-0000-0000-0000-000000000000")
