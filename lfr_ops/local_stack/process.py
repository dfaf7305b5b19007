"""PID-file supervision for the background processes behind `lfr services`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from lfr_core.errors import Unavailable


class ServiceError(Unavailable):
    """A local service could not be started or stopped; the message says why and what to do."""

    service = "a local service"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_owner(port: int) -> str | None:
    """Which process listens on `port` ("pid 123 (airflow)"), or None when it cannot be seen (another user's)."""
    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError):
        return None
    for conn in connections:
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
            try:
                return f"pid {conn.pid} ({' '.join(psutil.Process(conn.pid).cmdline()[:3]) or '?'})"
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                return f"pid {conn.pid}"
    return None


def port_in_use_message(service: str, host: str, port: int, setting: str, purpose: str) -> str:
    """One line naming the port, what it is for, the setting that chooses it and who holds it now."""
    owner = port_owner(port)
    held = f"held by {owner}" if owner else "already in use by another process"
    return (f"{service}: port {port} on {host} ({purpose}, {setting}) is {held}; "
            f"stop that process or set {setting} to a free port")


def require_free_port(host: str, port: int, service: str, *, setting: str, purpose: str) -> None:
    if not port_is_free(host, port):
        raise ServiceError(port_in_use_message(service, host, port, setting, purpose), service=service)


def wait_for_port(host: str, port: int, timeout_s: float, *, proc: psutil.Process | None = None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and not proc.is_running():
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def kill_leftovers(procs: list[psutil.Process], *, timeout_s: float = 10.0, terminate: bool = True) -> None:
    """Terminate (optionally), wait, then kill whatever of `procs` is still alive."""
    if terminate:
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout_s)
    for proc in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
    psutil.wait_procs(alive, timeout=5)


@dataclass
class ManagedProcess:
    """A detached process (own session, so a process-group signal reaches all its children)."""

    name: str
    run_dir: Path
    log_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not psutil.pid_exists(pid):
            return None
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return None
        except psutil.NoSuchProcess:
            return None
        return pid

    def start(self, cmd: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                list(cmd),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def stop(self, *, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> bool:
        """Signal the process group, wait, then kill what is left. True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        try:
            parent = psutil.Process(pid)
            family = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        kill_leftovers(family, timeout_s=timeout_s, terminate=False)  # the group signal was the polite ask
        self.pid_file.unlink(missing_ok=True)
        return True
