"""Confined sources: a manifest may name images only in its own staging folder (claimed by the first
deployment that builds from it) or under the configured local folders. /etc/shadow, a FIFO, /dev/zero, a
link out of a root, the alerts bucket and another deployment's folder are refused before any read, with
one message shape that does not tell whether an outside path exists."""

from __future__ import annotations

import os
import re

import pytest

from lfr_core.errors import InvalidInput
from lfr_core.watchlist.build import build_version
from lfr_core.watchlist.sources import policy_for
from tests.conftest import PLANNER, make_deployment, subject_rows

SHAPE = re.compile(r"^(?P<uri>.+) is unreachable: not a readable file under the permitted sources \((?P<where>.+)\)$")


def _refusal(policy, uri, store) -> str:
    with pytest.raises(InvalidInput) as refused:
        policy.read(uri, store, 1_000_000)
    message = str(refused.value)
    assert SHAPE.match(message), message
    return SHAPE.match(message).group("where")


def test_outside_paths_special_files_and_links_are_refused_alike(services, store, tmp_path):
    root = tmp_path / "intake"
    root.mkdir()
    (root / "ok.jpg").write_bytes(b"\xff\xd8 fine")
    os.mkfifo(root / "pipe.jpg")
    (root / "shadow.jpg").symlink_to("/etc/shadow")
    (root / "escape").symlink_to("/etc")
    settings = services.model_copy(update={"watchlist": services.watchlist.model_copy(update={"source_roots": [root]})})
    policy = policy_for(settings, str(root / "manifest.csv"))
    assert policy.read(str(root / "ok.jpg"), None, 1_000_000) == b"\xff\xd8 fine"
    wheres = {_refusal(policy, uri, store) for uri in (
        "/etc/shadow", "/etc/no-such-file", "/dev/zero", str(root / "pipe.jpg"), str(root / "shadow.jpg"),
        str(root / "escape" / "passwd"), str(root / "missing.jpg"), str(root / ".." / "intake" / ".." / "x.jpg"),
        f"s3://{services.s3.bucket_alerts}/alerts/x/probe.jpg", f"s3://{services.s3.bucket_sources}/staging/x/a.jpg")}
    assert len(wheres) == 1  # existing or not, special or regular, local or S3: the same answer


def test_s3_sources_stay_in_the_manifest_staging_folder(services, store):
    bucket = services.s3.bucket_sources
    store.put_bytes(bucket, "staging/op-a/custody/a.jpg", b"a")
    store.put_bytes(bucket, "staging/op-b/custody/b.jpg", b"b")
    policy = policy_for(services, f"s3://{bucket}/staging/op-a/manifest.csv")
    assert policy.read(f"s3://{bucket}/staging/op-a/custody/a.jpg", store, 100) == b"a"
    for uri in (f"s3://{bucket}/staging/op-b/custody/b.jpg", f"s3://{bucket}/staging/op-a/../op-b/custody/b.jpg",
                f"s3://{services.s3.bucket_images}/copies/x.jpg", f"s3://{services.s3.bucket_reports}/reports/x.md"):
        _refusal(policy, uri, store)
    # a manifest outside any staging folder can name nothing in S3
    _refusal(policy_for(services, f"s3://{bucket}/manifests/m.csv"), f"s3://{bucket}/manifests/m.csv", store)


def test_another_deployment_cannot_build_from_a_claimed_folder(db, services, store, face_engine, identities, stage):
    manifest = stage(subject_rows(identities, 1))
    first = make_deployment(db, services)
    built = build_version(db, store, face_engine, services, deployment_id=str(first["id"]), manifest_uri=manifest,
                          actor=PLANNER)
    assert built["entries_accepted"] == 1
    second = make_deployment(db, services)
    db.commit()
    with pytest.raises(InvalidInput, match="is unreachable: not a readable file under the permitted sources"):
        build_version(db, store, face_engine, services, deployment_id=str(second["id"]), manifest_uri=manifest,
                      actor=PLANNER)
