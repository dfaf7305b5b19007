"""Purges whose receipts prove deletion: confirmed deletions and objects already missing counted apart, and
an interrupted purge resuming to completion with a true receipt (the version is 'purging' until then)."""

from __future__ import annotations

import pytest

from lfr_core.storage.objectstore import ObjectStoreUnavailable, parse_s3_uri
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.build import build_version
from lfr_core.workflow.purge import purge
from tests.conftest import ADMIN, PLANNER, make_deployment, subject_rows


def test_an_interrupted_purge_resumes_with_a_true_receipt(db, services, store, face_engine, identities, stage,
                                                          monkeypatch):
    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(subject_rows(identities, 3)), actor=PLANNER)
    copies = [parse_s3_uri(e["image_uri"]) for e in version["entries"] if e["image_uri"]]
    assert len(copies) == 3
    store.delete_keys(copies[0][0], [copies[0][1]])  # gone before the purge asks: "already missing"

    real_delete = store.delete_keys

    def dies_after_the_first(bucket, keys):  # S3 goes down halfway through the deletions
        real_delete(bucket, keys[:1])
        raise ObjectStoreUnavailable("S3 at test is unavailable")

    monkeypatch.setattr(store, "delete_keys", dies_after_the_first)
    with pytest.raises(ObjectStoreUnavailable):
        purge(db, store, services, str(version["id"]), ADMIN, reason="window ended")
    db.rollback()
    interrupted = lifecycle.get_version(db, version["id"])
    assert interrupted["state"] == "purging" and interrupted["purge_receipt"] is None
    assert db.execute("SELECT count(*) AS n FROM watchlist_embeddings WHERE version_id = %s",
                      (version["id"],)).fetchone()["n"] == 0
    db.rollback()

    monkeypatch.setattr(store, "delete_keys", real_delete)
    receipt = purge(db, store, services, str(version["id"]), ADMIN, reason="resumed by the admin")
    assert receipt["reason"] == "window ended"  # the purge keeps the reason it was started for
    assert receipt["deleted"] == {"embeddings": 3, "image_objects": 2}
    assert receipt["already_missing"] == {"image_objects": 1}
    assert receipt["verified"]["objects_remaining"] == 0 and store.list_keys(copies[0][0], f"{version['id']}/") == []
    actions = [r["action"] for r in db.execute(
        "SELECT action FROM audit_log WHERE object_id = %s ORDER BY seq", (str(version["id"]),)).fetchall()]
    assert actions == ["watchlist.build", "watchlist.purging", "watchlist.purged"]
    assert purge(db, store, services, str(version["id"]), ADMIN, reason="again")["receipt_sha256"] == receipt["receipt_sha256"]


def test_a_purging_version_cannot_be_approved_or_activated(db, services, store, face_engine, identities, stage,
                                                           monkeypatch):
    from lfr_core.errors import Refused
    from tests.conftest import AUTHORISER

    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(subject_rows(identities, 1)), actor=PLANNER)
    monkeypatch.setattr(store, "delete_keys", lambda *a: (_ for _ in ()).throw(ObjectStoreUnavailable("down")))
    with pytest.raises(ObjectStoreUnavailable):
        purge(db, store, services, str(version["id"]), ADMIN, reason="window ended")
    db.rollback()
    with pytest.raises(Refused, match="purging"):
        lifecycle.approve(db, str(version["id"]), AUTHORISER)
