"""A camera's own losses reach its tile (issue 31 item 8): the tile said "0 dropped" while the feed had not sent
13 of 33 frames (it was behind), since only the service's drops were counted. The camera reports its running
total (lfr_core/live/wire.py); the ingress counts what grew since its last report, once, and the tile reads it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.alerts import service as alerts
from lfr_core.reporting import officer_view
from ray_apps.ingress.cameras import camera_report
from tests.ray_apps.test_ingress_checks import bare_ingress
from tests.rows import insert_deployment

DEP = uuid.UUID("3f2a9c1e-5b7d-4e21-9a0c-7d1e2f3a4b5c")


def test_the_ingress_counts_what_the_camera_reports_once_and_a_restarted_feed_from_zero():
    ingress = bare_ingress()
    for total in (0, 5, 5, 9, None, 2):  # the feed restarted after 9: its total starts again
        ingress.camera_not_sent(DEP, "cam-1", total)
    ingress.camera_not_sent(DEP, "cam-2", 4)
    pending = ingress.counters._pending
    assert pending[(DEP, "cam-1")].not_sent == 11 and pending[(DEP, "cam-2")].not_sent == 4


@pytest.mark.parametrize(("text", "total"), [('{"not_sent": 13}', 13), ('{"not_sent": 0}', 0), ("bye", None),
                                             ('{"not_sent": -1}', None), ('{"not_sent": true}', None),
                                             ('[13]', None), ('{"not_sent": "13"}', None)])
def test_a_camera_report_on_the_stream_is_a_running_total_or_nothing(text, total):
    assert camera_report(text) == total


def test_the_tile_reads_the_frames_the_camera_did_not_send(db, services):
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(minutes=5), window_end=now + timedelta(hours=1),
                            status="live", place="Losses Row")
    alerts.record_counts(db, dep, "cam-1", frames=20, faces_seen=3, frames_dropped=0, frames_not_sent=13)
    alerts.record_counts(db, dep, "cam-1", frames=0, faces_seen=0, frames_not_sent=2)
    tile = officer_view.cameras(db, dep)[0]
    assert (tile["frames"], tile["frames_dropped"], tile["frames_not_sent"]) == (20, 0, 15)
