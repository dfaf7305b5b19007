"""moto's S3 server: the embedded stand-in for MinIO.

moto keeps objects in memory (a restart loses them) and never applies lifecycle rules, so nothing
in the platform relies on lifecycle expiry: purges delete objects explicitly and verify by listing.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from lfr_core.config import Settings
from lfr_core.services.process import ManagedProcess, ServiceError, require_free_port, wait_for_port

import psutil

NOTES = "in-memory (objects are lost on restart); lifecycle rules are never applied"


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

    def pid(self) -> int | None:
        return self.process.pid()

    def start(self) -> bool:
        if self.pid() is not None:
            return False
        require_free_port(self.host, self.port, "s3", setting="LFR_S3__ENDPOINT", purpose="the S3 object store")
        pid = self.process.start([sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)])
        if not wait_for_port(self.host, self.port, 30, proc=psutil.Process(pid)):
            self.process.stop()
            raise ServiceError(f"s3: moto server did not start; see {self.process.log_file}")
        return True

    def stop(self) -> bool:
        return self.process.stop()
