"""The embedded object store keeps its objects across a stop and start and across a crash (SIGKILL),
with versioning and object lock still working afterwards."""

from __future__ import annotations

import os
import signal

import psutil
import pytest
from minio.error import S3Error

from lfr_core.config import Settings
from lfr_core.storage.objectstore import ObjectStore
from lfr_ops.local_stack.s3server import EmbeddedS3
from tests.conftest import free_port

pytestmark = pytest.mark.services  # an S3 server of its own (private_s3)


@pytest.fixture()
def private_s3(tmp_path):
    settings = Settings(_env_file=None, home=tmp_path, s3={"endpoint": f"127.0.0.1:{free_port()}"})
    server = EmbeddedS3.from_settings(settings)
    server.start()
    yield settings, server
    server.stop()


def test_objects_survive_a_restart_and_a_crash(private_s3):
    settings, server = private_s3
    store = ObjectStore(settings)
    server.admin_store().ensure_buckets()
    s3 = settings.s3
    first = store.put_bytes(s3.bucket_watchlists, "dep/v0001/snapshot.json", b'{"v": 1}')
    second = store.put_bytes(s3.bucket_watchlists, "dep/v0001/snapshot.json", b'{"v": 2}')
    store.put_bytes(s3.bucket_images, "ver/00000-abc.jpg", b"\xff\xd8image")
    store.put_bytes(s3.bucket_alerts, "dep/alert.jpg", b"\xff\xd8crop")
    store.delete_keys(s3.bucket_alerts, ["dep/alert.jpg"])

    server.stop()
    assert server.start() is True
    assert store.get_bytes(s3.bucket_watchlists, "dep/v0001/snapshot.json") == b'{"v": 2}'
    assert store.get_bytes(s3.bucket_watchlists, "dep/v0001/snapshot.json", version_id=first.version_id) == b'{"v": 1}'
    assert store.get_bytes(s3.bucket_images, "ver/00000-abc.jpg") == b"\xff\xd8image"
    assert store.list_keys(s3.bucket_alerts, "dep/") == []  # a deletion is as durable as a write
    # Object lock (governance) still protects a locked version from a delete without the bypass.
    with pytest.raises(S3Error):
        store.client.remove_object(s3.bucket_watchlists, "dep/v0001/snapshot.json", version_id=second.version_id)

    store.put_bytes(s3.bucket_reports, "receipts/dep/v0001.json", b'{"purged": true}')
    crashed = psutil.Process(server.pid())
    os.kill(crashed.pid, signal.SIGKILL)  # a crash right after the write was answered
    crashed.wait(timeout=10)
    assert server.pid() is None
    assert server.start() is True
    assert store.get_bytes(s3.bucket_reports, "receipts/dep/v0001.json") == b'{"purged": true}'
    files = [p for p in server.state_dir.rglob("*") if p.is_file()]
    assert files and {oct(p.stat().st_mode)[-3:] for p in files} == {"600"}
    assert oct(server.state_dir.stat().st_mode)[-3:] == "700"
