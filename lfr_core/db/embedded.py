"""Where the embedded PostgreSQL server keeps its files, and the DSNs it serves.

The database layer reads this to connect to the embedded default; the local stack
(lfr_ops/local_stack/postgres.py) builds on it to run the server. Keeping it here is what lets the database
layer connect without importing the tooling that starts the server.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from lfr_core.config import Settings

SUPERUSER = "postgres"


@dataclass
class EmbeddedServer:
    home: Path
    host: str
    port: int
    database: str
    user: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        db = settings.db
        return cls(home=settings.home, host=db.host, port=db.port, database=db.name, user=db.user)

    @property
    def pgdata(self) -> Path:
        return self.home / "postgres" / "data"

    @property
    def password_file(self) -> Path:
        return self.home / "postgres" / "password"

    @property
    def socket_dir(self) -> Path:
        # Unix socket paths are limited to ~107 bytes, so the socket lives in a short /tmp path.
        digest = hashlib.sha256(str(self.pgdata.resolve()).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"lfr-pg-{digest}"

    @property
    def admin_password_file(self) -> Path:
        """The superuser's password: never the application's (lfr_core/db/harden.py)."""
        return self.home / "postgres" / "admin-password"

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def admin_dsn(self, *, database: str | None = None) -> str:
        password = self.admin_password_file.read_text().strip()
        return (f"postgresql://{SUPERUSER}:{password}@{self.host}:{self.port}/{database or self.database}"
                "?connect_timeout=10")

    def dsn(self, *, database: str | None = None) -> str:
        return (
            f"postgresql://{self.user}:{self.password()}@{self.host}:{self.port}/{database or self.database}"
            "?connect_timeout=10"
        )
