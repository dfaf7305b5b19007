"""Faces seen, by whether they could be recognised (issue 32 item 4), as the report, the public results and the
console's camera tiles show them, from counters recorded by the alerts context on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.alerts import service as alerts
from lfr_core.alerts.model import FaceBands
from lfr_core.reporting import officer_view, public_record, reports
from ray_apps.ingress.contract import CameraTile
from tests.rows import insert_deployment, insert_version

# camera: (frames, faces seen, bands, reliable size); "cam-old" was counted before faces were counted by size.
CAMERAS = {
    "cam-near": (100, 200, FaceBands(refused_small=10, refused_other=5, below_reliable=25, reliable=160), 48),
    "cam-far": (100, 60, FaceBands(refused_small=20, refused_other=2, below_reliable=18, reliable=20), 48),
    "cam-few": (10, 9, FaceBands(refused_small=5, refused_other=0, below_reliable=4, reliable=0), 32),
    "cam-old": (50, 100, FaceBands(), None),
}


@pytest.fixture()
def counted(db) -> str:
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=3), window_end=now - timedelta(hours=1),
                            status="closed", place="Bands Parade")
    insert_version(db, dep, state="expired", accepted=4, activated_at=now - timedelta(hours=3))
    for camera, (frames, faces, bands, reliable_px) in CAMERAS.items():
        # in two flushes, as the ingress writes them: the sums and the latest reliable size are kept
        half = FaceBands(bands.refused_small // 2, bands.refused_other // 2, bands.below_reliable // 2,
                         bands.reliable // 2)
        alerts.record_counts(db, dep, camera, frames=frames // 2, faces_seen=half.total if reliable_px else faces // 2,
                             bands=half, reliable_face_px=reliable_px)
        rest = FaceBands(bands.refused_small - half.refused_small, bands.refused_other - half.refused_other,
                         bands.below_reliable - half.below_reliable, bands.reliable - half.reliable)
        alerts.record_counts(db, dep, camera, frames=frames - frames // 2,
                             faces_seen=rest.total if reliable_px else faces - faces // 2, bands=rest,
                             reliable_face_px=reliable_px)
    db.commit()
    return str(dep)


def test_the_report_says_how_many_faces_could_have_been_recognised(db, counted):
    t = reports.build_report(db, counted)["traffic"]
    assert (t["faces_seen"], t["faces_reliable"], t["faces_below_reliable"], t["faces_refused_by_gate"],
            t["faces_not_banded"], t["reliable_face_px"]) == (369, 180, 47, 42, 100, [32, 48])
    markdown = reports.render_markdown(reports.build_report(db, counted))
    assert "- Faces seen: 369" in markdown
    assert ("- Could have been recognised (admitted by the live gate, face at least 32-48 px wide): **180** "
            "(66.9% of those banded)") in markdown
    assert "- Admitted below the reliable size (compared and discarded unless matched, but missed more often): 47" \
        in markdown
    assert "- Refused by the live gate (too small or too uncertain a detection; never compared): 42" in markdown
    assert "- Counted before faces were counted by size: 100" in markdown


def test_a_deployment_counted_by_size_from_the_start_says_nothing_of_faces_before(db):
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=3), window_end=now - timedelta(hours=1),
                            status="closed", place="Bands Close")
    alerts.record_counts(db, dep, "cam-1", frames=10, faces_seen=4, bands=FaceBands(1, 0, 1, 2), reliable_face_px=40)
    db.commit()
    markdown = reports.render_markdown(reports.build_report(db, str(dep)))
    assert "face at least 40 px wide): **2** (50.0% of those banded)" in markdown
    assert "Counted before" not in markdown


def test_the_public_results_and_their_faces_seen_say_how_many_could_have_been_recognised(db, services, counted):
    out = public_record.results(db, counted)
    assert (out["faces_seen"], out["faces_recognisable"], out["reliable_face_px"]) == (369, 180, [32, 48])
    page = public_record.render_page(public_record.notice(db, services, counted), out)
    assert "<td>Faces seen</td><td class='n'>369 (180 could have been recognised)</td>" in page
    assert "A face could have been recognised when the camera saw it at least 32-48 px wide" in page


def test_a_camera_tile_warns_when_most_of_its_faces_are_below_the_reliable_size(db, counted):
    tiles = {t["camera_id"]: CameraTile(**t) for t in officer_view.cameras(db, counted)}
    far = tiles["cam-far"]
    assert (far.faces_reliable, far.faces_small, far.faces_banded, far.reliable_face_px) == (20, 38, 60, 48)
    assert far.warning == "camera too far or too wide: 38 of 60 faces narrower than 48 px, the reliable size"
    assert tiles["cam-near"].warning is None  # 35 of 200
    assert tiles["cam-few"].faces_small == 9 and tiles["cam-few"].warning is None  # too few faces to say
    assert tiles["cam-old"].faces_banded == 0 and tiles["cam-old"].warning is None
