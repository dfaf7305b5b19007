"""`python -m lfr_ops.local_stack.s3_durable`: moto's S3 server, made durable for the embedded default.

moto keeps buckets and objects in memory. This process runs the same server and writes what each change
touched to `--state` before answering it: one file per key (every version of it, delete markers included)
and one per bucket (its versioning and object-lock settings), restored at start. Objects therefore survive
`lfr services down`/`up` and a crash (SIGKILL) of the process: each file is written to a temporary name and
renamed over the old one, so a crash leaves the old or the new file, never half of one. (Files are not
fsynced: a crash of the whole machine may lose the last changes. Production uses MinIO.)

Changes run one at a time against the state (a lock held while `s3_guard` checks them against the lock
rules, moto applies them and their files are written); reads go on concurrently. Who may ask for what, and
what object lock forbids everyone, is `s3_guard`'s. Which keys a change touched comes from its path
(`/bucket/key`) or, for a multi-object delete (`POST /bucket?delete`), from its body.
"""

from __future__ import annotations

import argparse
import copy
import copyreg
import hashlib
import io
import json
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

CHANGES = {"PUT", "POST", "DELETE"}


def _backend() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["aws"]


def _rebuild_versions(items: list[tuple[str, list[Any]]]) -> Any:
    from moto.s3.utils import _VersionedKeyStore

    store = _VersionedKeyStore()
    for key, versions in items:
        dict.__setitem__(store, key, versions)
    return store


def _register_versioned_store() -> None:
    """moto keeps every version of a key in a dict subclass whose `items()` shows only the latest; pickle would
    save that view. Save the raw lists of versions instead."""
    from moto.s3.utils import _VersionedKeyStore

    copyreg.pickle(_VersionedKeyStore, lambda store: (_rebuild_versions, (list(dict.items(store)),)))


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    # 0600: objects are watchlist images and alert crops (biometric data).
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class State:
    """The S3 buckets on disk: `<root>/<bucket>/bucket.pickle` and `<root>/<bucket>/keys/<sha256>.pickle`."""

    def __init__(self, root: Path) -> None:
        _register_versioned_store()
        self.root = root
        self.lock = threading.Lock()

    def _dir(self, bucket: str) -> Path:
        return self.root / hashlib.sha256(bucket.encode()).hexdigest()[:32]

    def restore(self) -> int:
        from moto.s3.utils import _VersionedKeyStore

        buckets = _backend().buckets
        for folder in sorted(self.root.glob("*/bucket.pickle")):
            with open(folder, "rb") as f:
                bucket = pickle.load(f)  # noqa: S301 - our own 0600 files under LFR_HOME, written below
            bucket.keys = _VersionedKeyStore()
            for key_file in (folder.parent / "keys").glob("*.pickle"):
                with open(key_file, "rb") as f:
                    key, versions = pickle.load(f)  # noqa: S301 - as above
                dict.__setitem__(bucket.keys, key, versions)
            buckets[bucket.name] = bucket
        return len(buckets)

    def save(self, bucket_name: str, keys: Iterable[str]) -> None:
        """Write the bucket's settings and the named keys as they are now (a bucket or key gone: its file too)."""
        folder = self._dir(bucket_name)
        bucket = _backend().buckets.get(bucket_name)
        if bucket is None:
            for path in sorted(folder.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            if folder.exists():
                folder.rmdir()
            return
        from moto.s3.utils import _VersionedKeyStore

        (folder / "keys").mkdir(parents=True, exist_ok=True)
        settings = copy.copy(bucket)  # the bucket without its keys (reads go on meanwhile: never touch `bucket`)
        settings.keys = _VersionedKeyStore()
        _atomic_write(folder / "bucket.pickle", pickle.dumps(settings, protocol=pickle.HIGHEST_PROTOCOL))
        for key in keys:
            path = folder / "keys" / f"{hashlib.sha256(key.encode()).hexdigest()}.pickle"
            versions = list(dict.get(bucket.keys, key) or [])
            if versions:
                _atomic_write(path, pickle.dumps((key, versions), protocol=pickle.HIGHEST_PROTOCOL))
            else:
                path.unlink(missing_ok=True)


def _touched(environ: dict[str, Any], body: bytes) -> tuple[str, list[str]] | None:
    """(bucket, keys) a path-style request changes; the keys of a multi-object delete come from its body."""
    path = unquote(environ.get("PATH_INFO", "")).lstrip("/")
    if not path:
        return None
    bucket, _, key = path.partition("/")
    if key:
        return bucket, [key]
    if "delete" in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True) and body:
        root = ElementTree.fromstring(body)
        return bucket, [el.text or "" for el in root.iter() if el.tag.endswith("Key") and el.text is not None]
    return bucket, []


def durable(app: Callable, state: State) -> Callable:
    """WSGI middleware: a change runs alone against the state and is answered once its files are written."""

    def wrapped(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in CHANGES:
            return app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        with state.lock:
            answer = b"".join(app(environ, start_response))
            touched = _touched(environ, body)
            if touched:
                state.save(*touched)
        return [answer]

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True, help="folder of the S3 state (created if missing)")
    parser.add_argument("--admin-key", type=Path, required=True,
                        help="JSON file (0600) with the access_key and secret_key that may configure buckets")
    parser.add_argument("--policies", type=Path, required=True,
                        help="folder of the policy documents attached to the platform's key (LFR_S3__ACCESS_KEY and "
                             "LFR_S3__SECRET_KEY, from the environment)")
    opts = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(opts.port))
    # Path-style addressing only (`/bucket/key`): what `_touched` and the guard read a request's bucket from.
    os.environ["S3_IGNORE_SUBDOMAIN_BUCKETNAME"] = "true"
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    from lfr_ops.local_stack.s3_guard import Guard, Key

    admin = json.loads(opts.admin_key.read_text())
    keys = [Key("admin", admin["access_key"], admin["secret_key"]),
            Key("application", os.environ["LFR_S3__ACCESS_KEY"], os.environ["LFR_S3__SECRET_KEY"])]
    opts.state.mkdir(mode=0o700, parents=True, exist_ok=True)
    state = State(opts.state)
    print(f"s3: {state.restore()} buckets restored from {opts.state}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    guarded = Guard(DomainDispatcherApplication(create_backend_app), keys, opts.policies, lambda: _backend().buckets)
    run_simple(opts.host, opts.port, durable(guarded, state), threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
