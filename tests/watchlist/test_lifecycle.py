"""The watchlist lifecycle against the real PostgreSQL+pgvector, S3 server and face engine."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from lfr_core.audit import log as audit
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, Refused
from lfr_core.matching.matcher import ModelMismatch
from lfr_core.vision.images import load_image
from lfr_core.watchlist import lifecycle, vector_index
from lfr_core.watchlist.build import build_version, copies_prefix
from lfr_core.watchlist.history import history
from lfr_core.workflow.purge import purge
from tests.conftest import ADMIN, AUTHORISER, OPERATOR, PLANNER, make_deployment, subject_rows, wait_until


def _counts(conn) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"]
            for t in ("watchlist_versions", "watchlist_entries", "watchlist_embeddings")}


def _png(size: tuple[int, int], colour=(128, 128, 128)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_build_rejects_bad_entries_with_reasons(db, services, store, face_engine, identities, stage, tmp_path, shared_dir):
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("custody notes, not a photo")
    blank = tmp_path / "blank.png"
    blank.write_bytes(_png((400, 400)))
    tiny = tmp_path / "tiny.jpg"
    face = Image.open(identities[next(iter(identities))][0].path).convert("RGB")
    face.resize((48, int(48 * face.height / face.width))).save(tiny)
    rows = [
        *subject_rows(identities, 3),
        {"subject_ref": "BAD-uri", "category": "wanted_suspect", "rationale": "r", "provenance": "p",
         "capture_date": "", "image_uri": "s3://lfr-sources/custody/does-not-exist.jpg"},
        {"subject_ref": "BAD-bytes", "category": "wanted_suspect", "rationale": "r", "provenance": "p",
         "capture_date": "", "path": str(not_an_image)},
        {"subject_ref": "BAD-noface", "category": "wanted_suspect", "rationale": "r", "provenance": "p",
         "capture_date": "", "path": str(blank)},
        {"subject_ref": "BAD-two", "category": "wanted_suspect", "rationale": "r", "provenance": "p",
         "capture_date": "", "path": str(shared_dir / "data/faces/ageitgey/two_people.jpg")},
        {"subject_ref": "BAD-tiny", "category": "wanted_suspect", "rationale": "r", "provenance": "p",
         "capture_date": "", "path": str(tiny)},
    ]
    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(rows), actor=PLANNER)
    reasons = {e["subject_ref"]: (e["status"], e["reason"] or "") for e in version["entries"]}
    assert [ref for ref, (status, _) in reasons.items() if status == "accepted"] == [r["subject_ref"] for r in rows[:3]]
    assert "unreachable" in reasons["BAD-uri"][1]
    assert "not a usable image" in reasons["BAD-bytes"][1]
    assert reasons["BAD-noface"][1] == "no face found"
    assert "faces found" in reasons["BAD-two"][1]
    assert "low quality" in reasons["BAD-tiny"][1] or reasons["BAD-tiny"][1] == "no face found"
    assert version["state"] == "draft" and version["entries_accepted"] == 3 and version["entries_rejected"] == 5
    assert version["embedding_dim"] == face_engine.embedder.identity.embedding_dim
    assert version["embedder_sha256"] == face_engine.embedder.identity.weights_sha256
    snapshot = json.loads(store.get_uri(version["snapshot_uri"]))
    assert len(snapshot["entries"]) == 8
    assert all(set(e) == {"subject_ref", "image_index", "category", "rationale", "provenance", "capture_date", "source_uri",
                          "image_sha256", "image_uri", "status", "reason", "legal_basis", "date_of_birth", "age_band",
                          "under_18_rationale"} for e in snapshot["entries"])
    copies = store.list_keys(services.s3.bucket_images, copies_prefix(version["id"]))
    assert len(copies) == 3  # only accepted images are copied


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda rows: [{k: v for k, v in r.items() if k != "rationale"} for r in rows], "missing columns: rationale"),
        (lambda rows: [{**rows[0], "category": "suspicious_looking"}, *rows[1:]], "unknown category"),
        (lambda rows: [{**rows[0], "rationale": "  "}, *rows[1:]], "empty rationale"),
        (lambda rows: [rows[0], {**rows[1], "subject_ref": rows[0]["subject_ref"], "rationale": "another warrant"}],
         "rationale 'another warrant' differs from the subject's earlier row"),
        (lambda rows: [{**rows[0], "category": "missing_person"}, *rows[1:]], "not authorised for this deployment"),
    ],
    ids=["missing-column", "unknown-category", "empty-rationale", "subject-rows-disagree", "category-not-allowed"],
)
def test_bad_manifest_is_refused_and_changes_nothing(db, services, store, face_engine, identities, mutate, expected, tmp_path):
    import csv

    deployment = make_deployment(db, services, categories=["wanted_suspect", "wanted_by_court"])
    local = [{**{k: v for k, v in r.items() if k != "path"}, "image_uri": r["path"]} for r in subject_rows(identities, 2)]
    rows = mutate(local)
    path = tmp_path / "manifest.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = _counts(db)
    with pytest.raises(InvalidInput, match=expected):
        build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                      manifest_uri=str(path), actor=PLANNER)
    db.rollback()
    assert _counts(db) == before


def test_missing_manifest_is_refused(db, services, store, face_engine):
    deployment = make_deployment(db, services)
    with pytest.raises(InvalidInput, match="unreachable"):
        build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                      manifest_uri="s3://lfr-sources/staging/nope/manifest.csv", actor=PLANNER)


def test_failed_build_leaves_no_partial_version(db, services, store, face_engine, identities, stage, monkeypatch):
    deployment = make_deployment(db, services)
    manifest = stage(subject_rows(identities, 3))
    before = _counts(db)
    images_before = len(store.list_keys(services.s3.bucket_images, "", versions=True))

    def broken_put_json(*args, **kwargs):
        raise RuntimeError("object store went away mid-build")

    monkeypatch.setattr(store, "put_json", broken_put_json)
    with pytest.raises(RuntimeError, match="went away"):
        build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                      manifest_uri=manifest, actor=PLANNER)
    assert _counts(db) == before
    assert len(store.list_keys(services.s3.bucket_images, "", versions=True)) == images_before


def test_retried_build_with_same_key_yields_one_version(db, services, store, face_engine, identities, stage):
    deployment = make_deployment(db, services)
    manifest = stage(subject_rows(identities, 2))
    first = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                          manifest_uri=manifest, actor=PLANNER, build_key="run-42/build")
    again = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                          manifest_uri=manifest, actor=PLANNER, build_key="run-42/build")
    assert again["id"] == first["id"]
    assert len(lifecycle.list_versions(db, deployment["id"])) == 1


def test_full_lifecycle_approve_activate_search_expire_purge(db, services, store, face_engine, identities, stage):
    deployment = make_deployment(db, services, starts_in_s=4, length_s=600)
    rows = subject_rows(identities, 8)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(rows), actor=PLANNER)
    vid = str(version["id"])

    with pytest.raises(Refused, match="different authoriser"):
        lifecycle.approve(db, vid, type(AUTHORISER)(PLANNER.name, "authoriser"))
    with pytest.raises(Refused, match="needs the role authoriser"):
        lifecycle.approve(db, vid, OPERATOR)
    with pytest.raises(Refused, match="cannot become active"):
        lifecycle.activate(db, vid, OPERATOR, now=deployment["window_start"] + timedelta(seconds=1))
    approved = lifecycle.approve(db, vid, AUTHORISER)
    assert approved["approved_by"] == AUTHORISER.name and len(approved["criteria_sha256"]) == 64
    with pytest.raises(Refused, match="outside it"):
        lifecycle.activate(db, vid, OPERATOR)
    wait_until(deployment["window_start"])
    assert lifecycle.activate(db, vid, OPERATOR)["state"] == "active"
    assert deployments.get(db, deployment["id"])["status"] == "live"

    # pgvector (HNSW) and the in-memory exact matcher agree on top-1 for probes of enrolled people.
    matcher = lifecycle.load_matcher(db, vid)
    assert len(matcher) == 8 and matcher.threshold == pytest.approx(services.match.threshold)
    agree = correct = probes = 0
    refs = {f"SUBJ-{name}" for name in list(identities)[:8]}
    for name, images in list(identities.items())[:8]:
        for image in images[1:3]:
            faces = face_engine.analyse_batch([load_image(image.path, max_pixels=10**8, max_bytes=10**8)], purpose="live")[0]
            faces = [f for f in faces if f.embedding is not None]
            if not faces:
                continue
            probe = max(faces, key=lambda f: f.detection.size).embedding
            exact = matcher.top1(probe[None])[0]
            indexed = vector_index.search(db, vid, probe, dim=matcher.dim, k=1)[0]
            probes += 1
            agree += exact.subject_ref == indexed.subject_ref and abs(exact.score - indexed.score) < 1e-4
            correct += exact.subject_ref == f"SUBJ-{name}"
            assert exact.subject_ref in refs
    assert probes >= 8 and agree == probes and correct >= probes - 1

    with pytest.raises(ModelMismatch):
        matcher.check_model("0" * 64)
    with pytest.raises(Refused, match="is active"):
        purge(db, store, services, vid, ADMIN, reason="test: window over")
    assert lifecycle.expire(db, vid, OPERATOR)["state"] == "expired"
    assert deployments.get(db, deployment["id"])["status"] == "closed"

    receipt = purge(db, store, services, vid, ADMIN, reason="test: window over")
    assert receipt["deleted"] == {"embeddings": 8, "image_objects": 8}
    assert receipt["verified"]["embeddings_remaining"] == 0 and receipt["verified"]["objects_remaining"] == 0
    assert db.execute("SELECT count(*) AS n FROM watchlist_embeddings WHERE version_id = %s", (vid,)).fetchone()["n"] == 0
    assert store.list_keys(services.s3.bucket_images, copies_prefix(vid), versions=True) == []
    stored_receipt = json.loads(store.get_uri(receipt["receipt_uri"]))
    assert stored_receipt["version_id"] == vid and stored_receipt["deleted"] == receipt["deleted"]
    assert lifecycle.get_version(db, vid)["state"] == "purged"
    assert purge(db, store, services, vid, ADMIN, reason="test: window over")["receipt_uri"] == receipt["receipt_uri"]  # idempotent

    found = history(db, store, rows[0]["subject_ref"])
    ours = [(h["state"], h["snapshot_intact"], h["place"]) for h in found if h["version_id"] == vid]
    assert ours == [("purged", True, deployment["place"])]
    assert history(db, store, "SUBJ-never-listed") == []
    actions = [r["action"] for r in audit.export(db, object_type="watchlist_version", object_id=vid)]
    assert actions == ["watchlist.build", "watchlist.approved", "watchlist.active", "watchlist.expired", "watchlist.purging",
                       "watchlist.purged"]
    assert audit.verify(db).ok


def test_illegal_transitions_are_refused_with_reason(db, services, store, face_engine, identities, stage):
    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(subject_rows(identities, 2)), actor=PLANNER)
    vid = str(version["id"])
    with pytest.raises(Refused, match="draft; it cannot become expired"):
        lifecycle.expire(db, vid, OPERATOR)
    with pytest.raises(Refused, match="may not purge"):
        purge(db, store, services, vid, OPERATOR, reason="test")
    receipt = purge(db, store, services, vid, ADMIN, reason="test: window over")  # a draft that never got approval is purged
    assert receipt["deleted"]["embeddings"] == 2
    with pytest.raises(Refused, match="purged; it cannot become approved"):
        lifecycle.approve(db, vid, AUTHORISER)


def test_diff_reports_added_removed_and_changed_subjects(db, services, store, face_engine, identities, stage):
    deployment = make_deployment(db, services)
    rows = subject_rows(identities, 3)
    first = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                          manifest_uri=stage(rows), actor=PLANNER)
    changed = [{**rows[0], "category": "wanted_by_court", "rationale": "court warrant"}, rows[1],
               *subject_rows(dict(list(identities.items())[5:6]), 1)]
    second = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                           manifest_uri=stage(changed), actor=PLANNER)
    assert second["version"] == first["version"] + 1
    result = lifecycle.diff(db, str(first["id"]), str(second["id"]))
    assert result["added"] == [changed[2]["subject_ref"]]
    assert result["removed"] == [rows[2]["subject_ref"]]
    assert set(result["changed"]) == {rows[0]["subject_ref"]}
    assert result["changed"][rows[0]["subject_ref"]]["category"] == ["wanted_suspect", "wanted_by_court"]


def test_deployment_validation_refuses_bad_windows(services):
    now = datetime.now(UTC)
    base = {"place": "p", "purpose": "p", "legal_basis": "l", "intelligence_ref": "i",
            "authorising_officer": "o", "threshold": 0.4, "use_case": "crime_hotspot", "location_rationale": "r"}
    cases = [
        ({"window_start": now + timedelta(hours=2), "window_end": now + timedelta(hours=1)}, "window_end must be after"),
        ({"window_start": now - timedelta(hours=1), "window_end": now + timedelta(hours=1)}, "in the past"),
        ({"window_start": now + timedelta(hours=1), "window_end": now + timedelta(days=30)}, "exceeds the maximum"),
        ({"window_start": (now + timedelta(hours=1)).replace(tzinfo=None),
          "window_end": (now + timedelta(hours=2)).replace(tzinfo=None)}, "timezone"),
    ]
    for window, expected in cases:
        with pytest.raises(InvalidInput, match=expected):
            deployments.validate_spec({**base, **window}, services)
    with pytest.raises(InvalidInput, match="unknown categories"):
        deployments.validate_spec({**base, "window_start": now + timedelta(hours=1), "window_end": now + timedelta(hours=2),
                                   "allowed_categories": ["anyone"]}, services)


def test_embeddings_are_unit_norm_and_scoped_to_their_version(db, services, store, face_engine, identities, stage):
    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(subject_rows(identities, 2)), actor=PLANNER)
    rows = db.execute("SELECT embedding FROM watchlist_embeddings WHERE version_id = %s", (version["id"],)).fetchall()
    norms = [float(np.linalg.norm(r["embedding"].to_numpy())) for r in rows]
    assert len(norms) == 2 and all(abs(n - 1) < 1e-3 for n in norms)
    probe = rows[0]["embedding"].to_numpy()
    hits = vector_index.search(db, version["id"], probe, dim=version["embedding_dim"], k=10)
    assert len(hits) == 2 and hits[0].score == pytest.approx(1.0, abs=1e-4)
