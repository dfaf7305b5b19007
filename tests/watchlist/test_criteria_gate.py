"""What an authoriser approves includes the live gate (issue 32 item 2): the same list with another gate, or with a
decision to run below the reliable size, is another set of criteria, so its hash differs."""

from __future__ import annotations

from lfr_core.watchlist.lifecycle import criteria_hash

DEPLOYMENT = {"id": "d", "place": "p", "purpose": "u", "legal_basis": "b", "intelligence_ref": "i",
              "window_start": "2026-12-05T08:00:00+00:00", "window_end": "2026-12-05T10:00:00+00:00",
              "authorising_officer": "a", "allowed_categories": ["wanted_by_court"]}
VERSION = {"id": "v", "version": 1, "manifest_sha256": "m", "snapshot_sha256": "s", "detector": {"name": "yunet"},
           "embedder": {"name": "sface"}, "threshold": 0.45, "reliable_face_px": 48,
           "reliable_face_source": "recorded curve", "gate_face_px": None, "gate_decided_by": None, "gate_reason": None}
ROWS = [{"subject_ref": "S-1", "category": "wanted_by_court", "rationale": "r", "provenance": "c", "image_sha256": "h",
         "status": "accepted"}]


def test_the_gate_and_a_decision_below_the_reliable_size_change_the_approved_hash():
    base = criteria_hash(DEPLOYMENT, VERSION, ROWS)
    assert criteria_hash(DEPLOYMENT, dict(VERSION), ROWS) == base  # the same criteria, the same hash
    at_size = criteria_hash(DEPLOYMENT, {**VERSION, "gate_face_px": 48}, ROWS)
    below = criteria_hash(DEPLOYMENT, {**VERSION, "gate_face_px": 32, "gate_decided_by": "supt", "gate_reason": "r"},
                          ROWS)
    other_evidence = criteria_hash(DEPLOYMENT, {**VERSION, "reliable_face_px": 64}, ROWS)
    assert len({base, at_size, below, other_evidence}) == 4
