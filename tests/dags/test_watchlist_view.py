"""The authoriser's face view in the Airflow UI (airflow_plugins/lfr_watchlist_view.py, issue 27 item 6): crops
inline, paging that keeps the reason, probe results against the threshold, every value escaped; the approval's
Required Action body links to it."""

from __future__ import annotations

from lfr_core.watchlist.inspection import Candidate, FacesPage, FaceTile, ProbeFace, ProbeResult
from tests.watchlist.test_inspection import _consultations, assigned_draft


def test_a_page_of_faces_is_inline_crops_with_paging_that_keeps_the_reason():
    from airflow_plugins.lfr_watchlist_view import faces_html

    shown = FacesPage("v-1", 2, 2, 5, [FaceTile(1, "<SUBJ-1>", 0, "wanted_suspect", b"\xff\xd8jpeg")])
    out = faces_html("v-1", shown, "before sealing")
    assert "page 2 of 3 (5 in all)" in out and "data:image/jpeg;base64,/9hqcGVn" in out
    assert "&lt;SUBJ-1&gt;" in out and "<SUBJ-1>" not in out
    assert "/lfr-watchlist/v-1/?reason=before%20sealing&amp;page=3" in out and "<strong>2</strong>" in out


def test_probe_results_mark_candidates_at_the_threshold_and_the_projection():
    from airflow_plugins.lfr_watchlist_view import probe_html

    result = ProbeResult("v-1", 0.4, 3, 1.5, 4.2, "", [
        ProbeFace((0, 0, 10, 10), True, "would alert on SUBJ-1",
                  [Candidate("SUBJ-1", 0, "wanted_suspect", 0.61, True), Candidate("SUBJ-2", 0, "missing", 0.2, False)]),
        ProbeFace((20, 0, 30, 10), False, "not searched: too small", [])])
    out = probe_html(result)
    assert "Threshold 0.4000" in out and "1.5 per 10,000 faces (95% upper bound 4.2)" in out
    assert "<td>0.6100</td><td><span class=alert>alert</span>" in out and "<td>0.2000</td><td>no</td>" in out
    assert "Face 2: not searched: too small" in out


def test_the_approval_body_links_to_the_face_view():
    from datetime import UTC, datetime, timedelta

    from lfr_core.config import get_settings
    from lfr_core.workflow import approval

    start = datetime(2026, 12, 5, 10, tzinfo=UTC)
    deployment = {"place": "P", "window_start": start, "window_end": start + timedelta(hours=2), "purpose": "p",
                  "legal_basis": "l", "intelligence_ref": "i", "authorising_officer": "a"}
    version = {"id": "v-9", "version": 1, "built_by": "pat", "entries": [], "entries_accepted": 0,
               "entries_rejected": 0, "embedder": {"name": "e"}, "detector": {"name": "d"}, "embedder_sha256": "s" * 64,
               "embedding_dim": 128, "threshold": 0.4, "evidence": None}
    body = approval._body(deployment, version, None, (64, "x"), [], get_settings())
    assert "(/lfr-watchlist/v-9/)" in body and "logged with your reason" in body


class _User:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_name(self) -> str:
        return self.name


def _client(name: str | None):
    from fastapi.testclient import TestClient

    from airflow_plugins import lfr_watchlist_view as view

    view.app.dependency_overrides[view.current_user] = lambda: _User(name) if name else None
    return TestClient(view.app)


def test_the_page_serves_crops_and_probes_to_the_assigned_authoriser_only(db, services, store, face_engine,
                                                                           identities, stage):
    from pathlib import Path

    draft = assigned_draft(db, services, store, face_engine, identities, stage)
    version = str(draft["id"])
    assert "Why are you viewing" in _client("ann.authoriser").get(f"/{version}/").text  # no reason, no faces
    page = _client("ann.authoriser").get(f"/{version}/", params={"reason": "before sealing"})
    assert page.status_code == 200 and page.text.count("data:image/jpeg;base64,") == 3
    name, images = next(iter(identities.items()))
    probe = Path(images[1].path).read_bytes()
    no_header = _client("ann.authoriser").post(f"/{version}/probe", params={"reason": "test"}, content=probe)
    assert no_header.status_code == 400  # a cross-site post cannot make a consultation in someone's name
    probed = _client("ann.authoriser").post(f"/{version}/probe", params={"reason": "does it find them"},
                                            content=probe, headers={"X-LFR-Probe": "1"})
    assert probed.status_code == 200 and f"SUBJ-{name}" in probed.text and "projected false alerts" in probed.text
    assert _client("pam.both").get(f"/{version}/", params={"reason": "curious"}).status_code == 403
    assert _client(None).get(f"/{version}/", params={"reason": "curious"}).status_code == 401
    reasons = [r["details"]["reason"] for r in _consultations(db, version)]
    assert reasons == ["before sealing", "does it find them"]
