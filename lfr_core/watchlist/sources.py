"""Where a watchlist's sources may come from, whatever its manifest names.

An S3 manifest lives in a staging folder of the sources bucket, `s3://<sources>/staging/<name>/`, and its
images must lie in the same folder; the first deployment that builds from a folder claims it, so no other
deployment can read what was staged for it. A local manifest and its images must lie, after resolving
links, under a folder the administrator listed in `watchlist.source_roots`. Nothing else is read: not the
alerts, watchlist-copy or reports buckets, not special files (FIFOs, devices), not a link out of a root.
Reads are bounded in size, and every refusal reads the same, so an error tells nothing about whether an
outside path exists.
"""

from __future__ import annotations

import os
import posixpath
import stat
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import psycopg

from lfr_core.config import Settings
from lfr_core.errors import InvalidInput
from lfr_core.storage.objectstore import ObjectStore, ObjectStoreError, ObjectStoreUnavailable, parse_s3_uri
from lfr_core.watchlist import queries

STAGING = "staging/"
MANIFEST_NAMES = ("manifest.csv", "manifest.json")  # what a staged folder's manifest is called


@dataclass(frozen=True)
class SourcePolicy:
    bucket: str
    folder: str | None  # `staging/<name>/` of an S3 manifest; None for a local one
    roots: tuple[str, ...]

    def refusal(self, uri: str) -> InvalidInput:
        where = (f"s3://{self.bucket}/{self.folder}" if self.folder
                 else "a folder in LFR_WATCHLIST__SOURCE_ROOTS" if self.roots
                 else "a staging folder s3://<sources bucket>/staging/<name>/ (no local source folder is configured)")
        return InvalidInput(f"{uri[:300]} is unreachable: not a readable file under the permitted sources ({where})")

    def read(self, uri: str, store: ObjectStore | None, max_bytes: int) -> bytes:
        """The bytes of `uri` if it lies within this policy, else the one refusal; an S3 outage is raised as such."""
        if uri.startswith("s3://"):
            return self._read_s3(uri, store, max_bytes)
        return self._read_local(uri.removeprefix("file://"), max_bytes)

    def _read_s3(self, uri: str, store: ObjectStore | None, max_bytes: int) -> bytes:
        try:
            bucket, key = parse_s3_uri(uri)
        except ValueError as e:
            raise self.refusal(uri) from e
        normal = posixpath.normpath(key)
        if (store is None or self.folder is None or bucket != self.bucket or normal != key
                or not normal.startswith(self.folder)):
            raise self.refusal(uri)
        try:
            data = store.get_bytes(bucket, key)
        except ObjectStoreUnavailable:
            raise  # an outage, not a bad entry: the build stops instead of rejecting every image
        except ObjectStoreError as e:
            raise self.refusal(uri) from e
        if len(data) > max_bytes:
            raise InvalidInput(f"{uri[:300]}: {len(data)} bytes, above the limit of {max_bytes}")
        return data

    def _read_local(self, path: str, max_bytes: int) -> bytes:
        real = os.path.realpath(path)
        if not os.path.isabs(path) or not any(os.path.commonpath([real, root]) == root for root in self.roots):
            raise self.refusal(path)
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: no link swapped in since realpath.
            fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
        except OSError as e:
            raise self.refusal(path) from e
        with os.fdopen(fd, "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise self.refusal(path)
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise InvalidInput(f"{path[:300]}: above the limit of {max_bytes} bytes")
        return data


def policy_for(settings: Settings, manifest_uri: str) -> SourcePolicy:
    """The sources a manifest at `manifest_uri` may use (the manifest itself included)."""
    roots = tuple(os.path.realpath(root) for root in settings.watchlist.source_roots)
    folder = None
    if manifest_uri.startswith("s3://"):
        try:
            _, key = parse_s3_uri(manifest_uri)
        except ValueError:
            key = ""
        parts = key.split("/")
        if key.startswith(STAGING) and len(parts) >= 3 and parts[1] and posixpath.normpath(key) == key:
            folder = f"{STAGING}{parts[1]}/"
    return SourcePolicy(settings.s3.bucket_sources, folder, roots)


@dataclass(frozen=True)
class StagedFolder:
    """A folder a new deployment may build its watchlist from, and the manifest in it."""

    name: str  # what a planner reads: the staging folder's name, or the local folder's path
    manifest_uri: str


def staged_folders(settings: Settings, store: ObjectStore, claimed: Collection[str]) -> list[StagedFolder]:
    """The folders a new deployment may use, each holding a manifest (MANIFEST_NAMES): every S3 staging folder
    no deployment has claimed (`claimed`: `staging/<name>/` as `claim` records it), then each folder in
    `watchlist.source_roots` and the folders directly inside it. The same rules as `policy_for` and `read`, so a
    folder listed here is one a build may read; an S3 outage is raised as such."""
    found: list[StagedFolder] = []
    bucket = settings.s3.bucket_sources
    for key, _ in store.list_keys(bucket, STAGING):
        parts = key.split("/")
        staged = len(parts) == 3 and parts[1] and parts[2] in MANIFEST_NAMES and posixpath.normpath(key) == key
        if staged and f"{STAGING}{parts[1]}/" not in claimed and all(f.name != parts[1] for f in found):
            found.append(StagedFolder(parts[1], f"s3://{bucket}/{key}"))
    for root in (os.path.realpath(r) for r in settings.watchlist.source_roots):
        for folder in _root_and_children(Path(root)):
            manifest = next((folder / n for n in MANIFEST_NAMES if _regular_inside(folder / n, root)), None)
            if manifest is not None:
                found.append(StagedFolder(str(folder), str(manifest)))
    return found


def _root_and_children(root: Path) -> list[Path]:
    try:
        return [root, *sorted(p for p in root.iterdir() if p.is_dir())]
    except OSError:  # a root that is missing or unreadable offers nothing
        return []


def _regular_inside(path: Path, root: str) -> bool:
    """A regular file that lies under `root` once links are resolved (as `SourcePolicy.read` requires)."""
    real = os.path.realpath(path)
    return os.path.commonpath([real, root]) == root and os.path.isfile(real)


def claim(conn: psycopg.Connection, policy: SourcePolicy, deployment_id: uuid.UUID | str) -> None:
    """The first deployment to build from an S3 staging folder owns it; another is refused as if it were
    outside the permitted sources. Runs in the caller's transaction."""
    if policy.folder is None:
        return
    if queries.claim_staging_folder(conn, policy.folder, deployment_id) != str(deployment_id):
        raise policy.refusal(f"s3://{policy.bucket}/{policy.folder}")
