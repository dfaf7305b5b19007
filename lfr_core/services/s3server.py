"""moto's S3 server: the embedded stand-in for MinIO, made durable by `lfr_core.services.s3_durable`.

Objects, versions and object-lock settings are written under LFR_HOME/s3/state before a change is
answered, and restored at start. moto never applies lifecycle rules, so nothing in the platform relies on
lifecycle expiry: purges delete objects explicitly and verify by listing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from lfr_core.config import Settings
from lfr_core.services.process import ManagedProcess, ServiceError, require_free_port, wait_for_port

import psutil

NOTES = "durable: state written before each change is answered; lifecycle rules are never applied"


@dataclass
class EmbeddedS3:
    home: Path
    host: str
    port: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedS3:
        host, _, port = settings.s3.endpoint.rpartition(":")
        if not host or not port.isdigit():
            raise ServiceError(f"s3: endpoint {settings.s3.endpoint!r} must be host:port")
        return cls(home=settings.home, host=host, port=int(port))

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("s3", self.home / "run", self.home / "logs")

    @property
    def state_dir(self) -> Path:
        """Where the server's buckets and objects live between runs."""
        return self.home / "s3" / "state"

    def pid(self) -> int | None:
        return self.process.pid()

    def start(self) -> bool:
        if self.pid() is not None:
            return False
        require_free_port(self.host, self.port, "s3", setting="LFR_S3__ENDPOINT", purpose="the S3 object store")
        pid = self.process.start([sys.executable, "-m", "lfr_core.services.s3_durable", "--host", self.host,
                                  "--port", str(self.port), "--state", str(self.state_dir)])
        if not wait_for_port(self.host, self.port, 30, proc=psutil.Process(pid)):
            self.process.stop()
            raise ServiceError(f"s3: moto server did not start; see {self.process.log_file}")
        return True

    def stop(self) -> bool:
        return self.process.stop()
