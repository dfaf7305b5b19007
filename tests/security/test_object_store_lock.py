"""A compliance-locked audit checkpoint survives every call the platform's own S3 key can make (issue 25).

The attacker holds the platform's key (LFR_S3__ACCESS_KEY, the client every service uses) and tries each
route S3 offers to destroy a locked version: suspend versioning so that a PUT replaces it with a null version,
delete it by its version id (alone, in a batch, with the governance bypass), shorten, switch or remove its
retention, or configure the bucket (a policy that locks the platform out, lifecycle expiry, dropping object
lock, deleting the bucket). Each is refused with the error S3 and MinIO give, and afterwards the checkpoint is
there byte for byte, under the same versions. Some rules bind the admin key too (COMPLIANCE binds everyone),
so those are tried with it as well. The server is a private embedded one, so a failing test cannot lock the
session's platform out of its own buckets.
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from minio.commonconfig import COMPLIANCE, ENABLED, GOVERNANCE, Filter
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule
from minio.objectlockconfig import DAYS, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import SUSPENDED, VersioningConfig

from lfr_core.audit import checkpoints as audit_checkpoints
from lfr_core.audit import log as audit
from lfr_core.db.connection import connect
from lfr_core.storage.objectstore import ObjectStore, parse_s3_uri
from lfr_ops.local_stack.s3_guard import Request, lock_refusal
from lfr_ops.local_stack.s3server import EmbeddedS3
from tests.conftest import free_port


@pytest.fixture(scope="module")
def private_s3(services, tmp_path_factory):
    """A private S3 server, buckets made by its admin key; PostgreSQL (the audit log) is the session's."""
    home = tmp_path_factory.mktemp("lfr-home-lock")
    settings = services.model_copy(update={"home": home, "s3": services.s3.model_copy(
        update={"endpoint": f"127.0.0.1:{free_port()}"})})
    server = EmbeddedS3.from_settings(settings)
    server.start()
    yield settings, server
    server.stop()


@dataclass
class Locked:
    settings: object
    store: ObjectStore  # the platform's key, the same client every service uses
    admin: ObjectStore
    bucket: str
    key: str
    version_id: str
    data: bytes
    versions: list

    def assert_intact(self, *, added: int = 0) -> None:
        """The locked version is there, byte for byte, and no version of the key has gone."""
        assert self.store.get_bytes(self.bucket, self.key, version_id=self.version_id) == self.data
        now = self.store.list_keys(self.bucket, self.key, versions=True)
        assert set(self.versions) <= set(now) and len(now) == len(self.versions) + added


@pytest.fixture()
def locked(private_s3, services):
    """A checkpoint written by the platform (COMPLIANCE retention) into a fresh object-lock reports bucket."""
    settings, server = private_s3
    bucket = f"lfr-reports-{uuid.uuid4().hex[:10]}"
    own = settings.model_copy(update={"s3": settings.s3.model_copy(update={"bucket_reports": bucket})})
    admin = server.admin_store()
    admin.client.make_bucket(bucket, object_lock=True)
    admin.client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
    admin.client.set_object_lock_config(bucket, ObjectLockConfig(GOVERNANCE, 1, DAYS))
    server.grant_buckets_of(own.s3, bucket)
    store = ObjectStore(own)
    with connect(services) as conn:
        with conn.transaction():
            audit.append(conn, actor="lfr-system", role="system", action="test.event", object_type="test",
                         object_id="lock", details={"note": "object lock test"})
        written = audit_checkpoints.checkpoint(conn, store, own)
    _, key = parse_s3_uri(written["uri"])
    data = store.get_bytes(bucket, key, version_id=written["version_id"])
    return Locked(own, store, server.admin_store(), bucket, key, written["version_id"], data,
                  store.list_keys(bucket, key, versions=True))


def _code(call) -> str:
    with pytest.raises(S3Error) as refused:
        call()
    return refused.value.code


def _raw(client, method: str, bucket: str, key: str | None = None, body: bytes = b"", *,
         query: dict[str, str], headers: dict[str, str] | None = None) -> str:
    """A signed call the minio client has no method for; the S3 error code it gets."""
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # S3's Content-MD5
    return _code(lambda: client._execute(method, bucket, key, body=body, query_params=query,
                                         headers={"Content-MD5": md5, **(headers or {})}))


def test_versioning_cannot_be_suspended_on_the_lock_bucket(locked, services):
    suspend = VersioningConfig(SUSPENDED)
    assert _code(lambda: locked.store.client.set_bucket_versioning(locked.bucket, suspend)) == "AccessDenied"
    # as on S3 and MinIO, not even the admin may: versioning stays on while object lock is configured
    assert _code(lambda: locked.admin.client.set_bucket_versioning(locked.bucket, suspend)) == "InvalidBucketState"
    assert locked.admin.client.get_bucket_versioning(locked.bucket).status == ENABLED
    # so a PUT of the same key adds a version on top; it cannot replace the locked one with a null version
    locked.store.put_bytes(locked.bucket, locked.key, b'{"forged": true}', "application/json")
    locked.assert_intact(added=1)
    with connect(services) as conn:
        problems = audit_checkpoints.verify_checkpoints(conn, locked.store, locked.settings)[1]
    assert any("it was overwritten" in p for p in problems)  # and the overwrite is reported, not hidden


def test_the_locked_version_cannot_be_deleted_by_its_version_id(locked):
    for client in (locked.store.client, locked.admin.client):
        assert _code(lambda c=client: c.remove_object(locked.bucket, locked.key, version_id=locked.version_id)) \
            == "AccessDenied"
        assert _raw(client, "DELETE", locked.bucket, locked.key, query={"versionId": locked.version_id},
                    headers={"x-amz-bypass-governance-retention": "true"}) == "AccessDenied"
    # the platform's key may not delete in the reports bucket at all, not even by a delete marker
    assert _code(lambda: locked.store.client.remove_object(locked.bucket, locked.key)) == "AccessDenied"
    locked.assert_intact()


def test_the_locked_version_cannot_be_deleted_in_a_batch(locked):
    for client in (locked.store.client, locked.admin.client):
        for bypass in (False, True):
            errors = list(client.remove_objects(locked.bucket, [DeleteObject(locked.key, locked.version_id)],
                                                bypass_governance_mode=bypass))
            assert [(e.name, e.version_id, e.code) for e in errors] == [
                (locked.key, locked.version_id, "AccessDenied")]
    # in a batch with an object the admin may delete (GOVERNANCE, bypassed), that one goes and the checkpoint stays
    other = locked.store.put_bytes(locked.bucket, "reports/other.json", b"{}", "application/json")
    errors = list(locked.admin.client.remove_objects(locked.bucket, [
        DeleteObject(locked.key, locked.version_id), DeleteObject(other.key, other.version_id)],
        bypass_governance_mode=True))
    assert [(e.name, e.code) for e in errors] == [(locked.key, "AccessDenied")]
    assert locked.store.list_keys(locked.bucket, other.key, versions=True) == []
    locked.assert_intact()


def test_compliance_retention_cannot_be_shortened_switched_or_removed(locked):
    until = datetime.now(UTC) + timedelta(days=locked.settings.audit.checkpoint_retention_days)
    for client in (locked.store.client, locked.admin.client):
        for retention in (Retention(COMPLIANCE, datetime.now(UTC) + timedelta(hours=1)),  # shortened
                          Retention(GOVERNANCE, until + timedelta(days=1))):  # switched to bypassable
            assert _code(lambda c=client, r=retention: c.set_object_retention(
                locked.bucket, locked.key, r, version_id=locked.version_id)) == "AccessDenied"
        removed = b'<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Retention>'
        for bypass in ({}, {"x-amz-bypass-governance-retention": "true"}):
            assert _raw(client, "PUT", locked.bucket, locked.key, removed, headers=bypass,
                        query={"retention": "", "versionId": locked.version_id}) == "AccessDenied"
    kept = locked.store.client.stat_object(locked.bucket, locked.key, version_id=locked.version_id).metadata
    kept_until = datetime.fromisoformat(kept["x-amz-object-lock-retain-until-date"])
    assert kept["x-amz-object-lock-mode"] == COMPLIANCE and kept_until > until - timedelta(minutes=5)
    locked.assert_intact()


def test_the_platform_key_cannot_configure_the_bucket(locked):
    client, bucket = locked.store.client, locked.bucket
    lock_out = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
    expire = LifecycleConfig([Rule(ENABLED, rule_filter=Filter(prefix=""), rule_id="expire",
                                   expiration=Expiration(days=1))])
    attempts = {
        "PutBucketPolicy": lambda: client.set_bucket_policy(bucket, lock_out),
        "DeleteBucketPolicy": lambda: client.delete_bucket_policy(bucket),
        "PutBucketVersioning": lambda: client.set_bucket_versioning(bucket, VersioningConfig(ENABLED)),
        "PutObjectLockConfiguration": lambda: client.set_object_lock_config(bucket, ObjectLockConfig(GOVERNANCE, 1,
                                                                                                     DAYS)),
        "PutBucketLifecycle": lambda: client.set_bucket_lifecycle(bucket, expire),
        "DeleteBucket": lambda: client.remove_bucket(bucket),
        "CreateBucket": lambda: client.make_bucket(f"lfr-new-{uuid.uuid4().hex[:8]}"),
        "PutObjectLegalHold": lambda: client.disable_object_legal_hold(bucket, locked.key, locked.version_id),
    }
    refused = {name: _code(call) for name, call in attempts.items()}
    assert refused == dict.fromkeys(attempts, "AccessDenied")
    assert _raw(client, "PUT", bucket, body=b"<AccessControlPolicy/>", query={"acl": ""}) == "AccessDenied"
    assert _raw(client, "PUT", bucket, body=b"<ObjectLockConfiguration/>", query={"object-lock": ""}) \
        == "AccessDenied"
    # the admin may configure, but not drop object lock nor delete a bucket that holds versions
    admin = locked.admin.client
    assert _raw(admin, "PUT", bucket, body=b"<ObjectLockConfiguration/>", query={"object-lock": ""}) \
        == "InvalidRequest"
    assert _code(lambda: admin.remove_bucket(bucket)) == "BucketNotEmpty"
    locked.assert_intact()  # and still readable with the platform's key: no policy locks it out


def test_unsigned_forged_and_control_api_requests_are_refused(locked):
    endpoint = f"http://{locked.settings.s3.endpoint}"

    def status(method: str, path: str, headers: dict[str, str] | None = None) -> int:
        request = urllib.request.Request(endpoint + path, method=method, data=b"" if method == "POST" else None,
                                         headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as e:
            return e.code

    assert status("POST", "/moto-api/reset") == 403  # moto's reset would empty every bucket
    assert _raw(locked.admin.client, "POST", "moto-api", "reset", query={}) == "AccessDenied"  # signed or not
    assert status("GET", f"/{locked.bucket}/{locked.key}") == 403  # anonymous
    assert status("DELETE", f"/{locked.bucket}/{locked.key}?versionId={locked.version_id}") == 403
    # the admin's access key with a secret that is not the admin's: the signature does not match
    admin_id = locked.admin.settings.access_key.get_secret_value()
    forged = ObjectStore(locked.settings.model_copy(update={"s3": locked.settings.s3.model_copy(
        update={"access_key": locked.admin.settings.access_key})}))
    assert admin_id != locked.store.settings.access_key.get_secret_value()
    assert _code(lambda: forged.client.remove_object(locked.bucket, locked.key)) == "SignatureDoesNotMatch"
    locked.assert_intact()


def test_a_locked_null_version_cannot_be_replaced_or_deleted_where_versioning_is_off():
    """State from before the versioning rule (or another store) with versioning suspended: a PUT or a plain
    DELETE would replace or remove the locked null version in place, so both are refused."""
    until = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    null = SimpleNamespace(version_id="null", lock_mode="COMPLIANCE", lock_until=until, lock_legal_status=None,
                           is_locked=lambda governance_bypass: True)
    bucket = SimpleNamespace(versioning_status="Suspended", object_lock_enabled=True,
                             keys={"audit-checkpoints/c.json": [null]})

    def refused(method: str, query: dict[str, list[str]] | None = None) -> str | None:
        request = Request(method, "b", "audit-checkpoints/c.json", query or {}, {}, b"data")
        refusal = lock_refusal(request, {"b": bucket})
        return refusal.code if refusal else None

    assert refused("PUT") == "AccessDenied"
    assert refused("DELETE") == "AccessDenied"
    assert refused("PUT", {"tagging": [""]}) is None  # not a write of the object itself
