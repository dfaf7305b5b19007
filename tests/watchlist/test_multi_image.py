"""Subjects enrolled from several custody photographs: one template per image, scored by their centroid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lfr_core.errors import InvalidInput
from lfr_core.vision.images import load_image
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.build import build_version
from lfr_core.watchlist.history import history
from lfr_core.watchlist.manifest import parse_manifest
from lfr_core.workflow.purge import purge
from tests.conftest import ADMIN, AUTHORISER, PLANNER, make_deployment

HEADER = "subject_ref,category,rationale,image_uri,provenance,capture_date\n"


def _rows(identities, images_of_first: int) -> tuple[list[dict[str, str]], str, list]:
    name, imgs = next((n, i) for n, i in identities.items() if len(i) >= images_of_first + 1)
    other = next(n for n in identities if n != name)
    rows = [{"subject_ref": "SUBJ-MULTI", "category": "wanted_suspect", "rationale": "warrant W-9",
             "provenance": f"custody {k}", "capture_date": "", "path": str(imgs[k].path)} for k in range(images_of_first)]
    rows.append({"subject_ref": "SUBJ-ONE", "category": "wanted_suspect", "rationale": "warrant W-10",
                 "provenance": "custody", "capture_date": "", "path": str(identities[other][0].path)})
    return rows, name, imgs


def test_several_images_of_one_subject_become_templates_scored_by_their_centroid(db, services, store, face_engine,
                                                                          identities, stage):
    rows, _, imgs = _rows(identities, 2)
    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(rows), actor=PLANNER)
    assert version["entries_accepted"] == 3
    assert [(e["subject_ref"], e["image_index"]) for e in version["entries"]] == [
        ("SUBJ-MULTI", 0), ("SUBJ-MULTI", 1), ("SUBJ-ONE", 0)]
    snapshot = json.loads(store.get_uri(version["snapshot_uri"]))
    assert snapshot["counts"] == {"images": 3, "images_accepted": 3, "subjects": 2, "subjects_accepted": 2}

    matcher = lifecycle.load_matcher(db, version["id"])
    assert len(matcher) == 3
    image = load_image(imgs[-1].path, max_pixels=services.vision.max_image_pixels, max_bytes=services.vision.max_image_bytes)
    probe = face_engine.analyse_batch([image], purpose="live")[0][0].embedding
    templates = matcher.templates[:2]
    centroid = templates.sum(axis=0) / np.linalg.norm(templates.sum(axis=0))
    best = matcher.top1(probe[None])[0]
    assert best.subject_ref == "SUBJ-MULTI" and best.score == pytest.approx(float(centroid @ probe), abs=1e-5)
    nearest = int(np.argmax(templates @ probe))  # the officer sees the custody image closest to the probe
    assert best.image_uri == version["entries"][nearest]["image_uri"]
    assert matcher.scores(probe[None]).shape == (1, 2)  # two subjects

    lifecycle.approve(db, str(version["id"]), AUTHORISER)
    lifecycle.expire(db, str(version["id"]), ADMIN, reason="test")
    receipt = purge(db, store, services, str(version["id"]), ADMIN, reason="test: done")
    assert receipt["counts"] == {"subjects": 2, "images": 3} and receipt["deleted"]["embeddings"] == 3
    seen = [h for h in history(db, store, "SUBJ-MULTI") if h.get("version_id") == str(version["id"])]
    assert len(seen) == 1 and seen[0]["images"] == 2 and seen[0]["entry_status"] == "accepted"


def test_a_subjects_images_must_agree_and_stay_within_the_limit():
    rows = [f"S1,wanted_suspect,warrant,/a{k}.jpg,custody,\n" for k in range(3)]
    parsed = parse_manifest((HEADER + "".join(rows)).encode(), "/m.csv", ["wanted_suspect"], max_images_per_subject=3)
    assert [r.image_index for r in parsed] == [0, 1, 2]
    with pytest.raises(InvalidInput, match="more than 2 images"):
        parse_manifest((HEADER + "".join(rows)).encode(), "/m.csv", ["wanted_suspect"], max_images_per_subject=2)
    clash = HEADER + "S1,wanted_suspect,warrant,/a.jpg,c,\nS1,missing_person,warrant,/b.jpg,c,\n"
    with pytest.raises(InvalidInput, match="category 'missing_person' differs"):
        parse_manifest(clash.encode(), "/m.csv", ["wanted_suspect", "missing_person"])
