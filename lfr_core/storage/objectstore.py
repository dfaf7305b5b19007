"""The object store (MinIO in production, moto's S3 server when embedded), through the `minio` client."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.helpers import DictType
from minio.objectlockconfig import DAYS, GOVERNANCE, ObjectLockConfig
from minio.retention import Retention
from minio.versioningconfig import ENABLED, VersioningConfig

from lfr_core.config import Settings
from lfr_core.errors import Service, Unavailable


class ObjectStoreError(Unavailable):
    """The object store failed a request: an object could not be stored or read; the message names the bucket
    and key."""

    service = Service.OBJECT_STORE


class ObjectStoreUnavailable(ObjectStoreError):
    """The S3 server did not answer: one line naming it, never a urllib3 traceback."""


def _http_client(secure: bool, ca_file: Path | None = None) -> urllib3.PoolManager:
    """minio's own pool, but failing in seconds rather than after minutes of retries when the server is down."""
    timeout = urllib3.Timeout(connect=3.0, read=60.0)
    retries = urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504])
    if not secure:
        return urllib3.PoolManager(timeout=timeout, maxsize=10, retries=retries)
    ca = str(ca_file) if ca_file else os.environ.get("SSL_CERT_FILE") or certifi.where()
    return urllib3.PoolManager(timeout=timeout, maxsize=10, retries=retries, cert_reqs="CERT_REQUIRED", ca_certs=ca)


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    version_id: str | None
    sha256: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.strip("/"):
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


class ObjectStore:
    def __init__(self, settings: Settings) -> None:
        s3 = settings.s3
        self.settings = s3
        self.client = Minio(
            s3.endpoint,
            access_key=s3.access_key.get_secret_value(),
            secret_key=s3.secret_key.get_secret_value(),
            secure=s3.secure,
            region=s3.region,
            http_client=_http_client(s3.secure, s3.ca_file),
        )

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        try:
            yield
        except (urllib3.exceptions.HTTPError, OSError) as e:
            reason = str(getattr(e, "reason", None) or e).splitlines()[0]
            reason = reason[reason.find("[Errno"):] if "[Errno" in reason else reason[:200]
            raise ObjectStoreUnavailable(f"S3 at {self.settings.endpoint} is unavailable ({reason}); "
                                         f"run `lfr services up` or check LFR_S3__ENDPOINT") from e

    @property
    def buckets(self) -> tuple[str, ...]:
        s = self.settings
        return (s.bucket_sources, s.bucket_images, s.bucket_watchlists, s.bucket_alerts, s.bucket_reports)

    def ensure_buckets(self) -> None:
        """Create the platform's buckets, versioned; snapshot buckets with object lock where supported.

        The watchlist image bucket stays unversioned: there, versioning would keep a purged image alive as a
        noncurrent version."""
        locked = {self.settings.bucket_watchlists, self.settings.bucket_reports}
        with self._reachable():
            self._ensure(locked)

    def _ensure(self, locked: set[str]) -> None:
        for bucket in self.buckets:
            if self.client.bucket_exists(bucket):
                continue
            want_lock = self.settings.object_lock and bucket in locked
            try:
                self.client.make_bucket(bucket, object_lock=want_lock)
            except S3Error as e:
                if e.code != "AccessDenied":
                    raise
                raise ObjectStoreError(f"bucket {bucket} is missing and this key may not make buckets (the "
                                       f"platform's key reads and writes objects only): the object store's "
                                       f"administrator makes them (infra/terraform/README.md)") from e
            if bucket != self.settings.bucket_images:
                self.client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
            if want_lock:
                # Governance mode: an admin with the bypass right can still delete (purges must work). A
                # server that accepted the bucket but has no default-retention support refuses; that is fine.
                with contextlib.suppress(S3Error):
                    self.client.set_object_lock_config(bucket, ObjectLockConfig(GOVERNANCE, 1, DAYS))

    def put_bytes(self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream", *,
                  retain_until: datetime | None = None) -> StoredObject:
        """Store an object; with `retain_until`, under COMPLIANCE-mode object lock: until then no key of any
        user, the platform's own included, can delete it or shorten its retention (the bucket needs object lock)."""
        digest = hashlib.sha256(data)
        # Buckets with default object lock require an integrity checksum on every upload.
        checksum: DictType = {"x-amz-sdk-checksum-algorithm": "SHA256", "x-amz-checksum-sha256": base64.b64encode(digest.digest()).decode()}
        retention = Retention(COMPLIANCE, retain_until) if retain_until else None
        try:
            with self._reachable():
                result = self.client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type,
                                                metadata=checksum, retention=retention)
        except S3Error as e:
            raise ObjectStoreError(f"cannot store s3://{bucket}/{key}: {e.code}") from e
        return StoredObject(bucket, key, result.version_id, digest.hexdigest(), len(data))

    def put_json(self, bucket: str, key: str, payload: Any) -> StoredObject:
        data = json.dumps(payload, sort_keys=True, indent=2, default=str).encode()
        return self.put_bytes(bucket, key, data, "application/json")

    def get_bytes(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        with self._reachable():
            try:
                response = self.client.get_object(bucket, key, version_id=version_id)
            except S3Error as e:
                raise ObjectStoreError(f"cannot read s3://{bucket}/{key}: {e.code}") from e
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def get_uri(self, uri: str) -> bytes:
        return self.get_bytes(*parse_s3_uri(uri))

    def list_keys(self, bucket: str, prefix: str = "", *, versions: bool = False) -> list[tuple[str, str | None]]:
        with self._reachable():
            return [
                (obj.object_name, obj.version_id)
                for obj in self.client.list_objects(bucket, prefix=prefix, recursive=True, include_version=versions)
            ]

    def delete_keys(self, bucket: str, keys: list[str]) -> int:
        """Delete named objects (current versions); for unversioned buckets this removes them for good."""
        if not keys:
            return 0
        with self._reachable():
            errors = list(self.client.remove_objects(bucket, [DeleteObject(key) for key in keys]))
        if errors:
            raise ObjectStoreError(f"could not delete {len(errors)} objects in s3://{bucket}: {errors[0]}")
        return len(keys)

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete every version of every object under a prefix; returns how many versions were removed."""
        targets = [DeleteObject(key, version_id) for key, version_id in self.list_keys(bucket, prefix, versions=True)]
        if not targets:
            return 0
        with self._reachable():
            errors = list(self.client.remove_objects(bucket, targets, bypass_governance_mode=True))
        if errors:
            raise ObjectStoreError(f"could not delete {len(errors)} objects under s3://{bucket}/{prefix}: {errors[0]}")
        return len(targets)

    def object_locked(self, bucket: str) -> bool:
        """Whether what is written in the bucket may be undeletable, so that it is superseded rather than deleted:
        the bucket has object lock on, or this key may not read its lock configuration (the platform's key may
        not, storage/policy.py), which is taken as locked."""
        with self._reachable():
            try:
                config = self.client.get_object_lock_config(bucket)
            except S3Error as e:
                # Only "no configuration" means made without object lock; a refusal to say is taken as locked.
                return e.code != "ObjectLockConfigurationNotFoundError"
        return config is not None

    def require_available(self) -> None:
        """ObjectStoreUnavailable unless the server answers now (before work that must not stop halfway)."""
        with self._reachable():
            self.client.bucket_exists(self.settings.bucket_reports)  # the key may list its buckets, not all

    def healthy(self) -> bool:
        try:
            self.client.bucket_exists(self.settings.bucket_reports)
        except Exception:  # noqa: BLE001 - any failure to answer means unhealthy
            return False
        return True
