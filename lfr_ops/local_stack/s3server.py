"""moto's S3 server: the embedded stand-in for MinIO, made durable by `lfr_ops.local_stack.s3_durable` and
guarded by `lfr_ops.local_stack.s3_guard`.

Objects, versions and object-lock settings are written under LFR_HOME/s3/state before a change is
answered, and restored at start. moto never applies lifecycle rules, so nothing in the platform relies on
lifecycle expiry: purges delete objects explicitly and verify by listing.

Two identities, as on MinIO: the admin key (LFR_HOME/s3/admin-key.json, 0600, made at first start), with
which `lfr services up` makes and configures the buckets, and the platform's key (LFR_S3__ACCESS_KEY), which
may do only what the policy documents in LFR_HOME/s3/policies grant (lfr_core/storage/policy.py).
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from pydantic import SecretStr

from lfr_core.config import S3Settings, Settings
from lfr_core.errors import Service
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.storage.policy import application_policy
from lfr_ops.local_stack.process import ManagedProcess, ServiceError, require_free_port, wait_for_port

NOTES = ("durable: state written before each change is answered; lifecycle rules are never applied; the "
         "platform's key reads and writes objects only, buckets are configured with the admin key")


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text)
    os.replace(tmp, path)


@dataclass
class EmbeddedS3:
    home: Path
    host: str
    port: int
    settings: Settings = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedS3:
        host, _, port = settings.s3.endpoint.rpartition(":")
        if not host or not port.isdigit():
            raise ServiceError(f"s3: endpoint {settings.s3.endpoint!r} must be host:port",
                               service=Service.OBJECT_STORE)
        return cls(home=settings.home, host=host, port=int(port), settings=settings)

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("s3", self.home / "run", self.home / "logs")

    @property
    def state_dir(self) -> Path:
        """Where the server's buckets and objects live between runs."""
        return self.home / "s3" / "state"

    @property
    def admin_key_file(self) -> Path:
        return self.home / "s3" / "admin-key.json"

    @property
    def policies_dir(self) -> Path:
        """Policy documents attached to the platform's key; the server reads them again when one changes."""
        return self.home / "s3" / "policies"

    def admin_key(self) -> dict[str, str]:
        """The admin identity's access_key and secret_key, made (0600) the first time they are asked for."""
        if not self.admin_key_file.exists():
            _write_private(self.admin_key_file, json.dumps({"access_key": f"lfr-admin-{secrets.token_hex(6)}",
                                                             "secret_key": secrets.token_urlsafe(30)}))
        key: dict[str, str] = json.loads(self.admin_key_file.read_text())
        return key

    def admin_store(self) -> ObjectStore:
        """A client with the admin key: for making and configuring buckets, never for the platform's work."""
        key = self.admin_key()
        return ObjectStore(self.settings.model_copy(update={"s3": self.settings.s3.model_copy(
            update={"access_key": SecretStr(key["access_key"]), "secret_key": SecretStr(key["secret_key"])})}))

    def attach_policy(self, name: str, document: dict[str, Any]) -> None:
        """Attach a policy document to the platform's key (what `mc admin policy attach` does on MinIO)."""
        _write_private(self.policies_dir / f"{name}.json", json.dumps(document, indent=2))

    def grant_buckets_of(self, s3: S3Settings, name: str) -> None:
        """Grant the platform's key what it needs in the buckets `s3` names (a test's own reports bucket)."""
        self.attach_policy(name, application_policy(s3))

    def pid(self) -> int | None:
        return self.process.pid()

    def start(self) -> bool:
        if self.pid() is not None:
            return False
        require_free_port(self.host, self.port, "s3", setting="LFR_S3__ENDPOINT", purpose="the S3 object store")
        self.admin_key()
        self.grant_buckets_of(self.settings.s3, "application")
        s3 = self.settings.s3
        env = {**os.environ, "LFR_S3__ACCESS_KEY": s3.access_key.get_secret_value(),
               "LFR_S3__SECRET_KEY": s3.secret_key.get_secret_value()}
        pid = self.process.start([sys.executable, "-m", "lfr_ops.local_stack.s3_durable", "--host", self.host,
                                  "--port", str(self.port), "--state", str(self.state_dir),
                                  "--admin-key", str(self.admin_key_file), "--policies", str(self.policies_dir)],
                                 env=env)
        if not wait_for_port(self.host, self.port, 30, proc=psutil.Process(pid)):
            self.process.stop()
            raise ServiceError(f"s3: moto server did not start; see {self.process.log_file}",
                               service=Service.OBJECT_STORE)
        return True

    def stop(self) -> bool:
        return self.process.stop()
