"""A round trip through the real S3 server: put, get and versioning with the platform's key."""

from __future__ import annotations

import json

from lfr_core.storage.objectstore import ObjectStore


def test_object_store_put_get_and_versioning(services):
    store = ObjectStore(services)
    bucket = services.s3.bucket_alerts  # versioned; the platform's key may not delete in the reports bucket
    first = store.put_json(bucket, "tests/versioned.json", {"n": 1})
    second = store.put_json(bucket, "tests/versioned.json", {"n": 2})
    assert first.version_id and second.version_id and first.version_id != second.version_id
    assert json.loads(store.get_bytes(bucket, "tests/versioned.json")) == {"n": 2}
    assert json.loads(store.get_bytes(bucket, "tests/versioned.json", first.version_id)) == {"n": 1}
    assert store.delete_prefix(bucket, "tests/") == 2
    assert store.list_keys(bucket, "tests/", versions=True) == []
