"""Ray Serve for `lfr services up --serve`: one supervised launcher process (`python -m ray_apps.launch`)
that starts a private Ray node with an explicit CPU count and deploys the application on
`serve.host:serve.port`. `stop` asks the launcher to shut Serve and its node down (SIGTERM), then kills
whatever of its process group is left, so nothing outlives it. Never `ray stop`: that would also stop
other Ray clusters on a shared machine. No Ray import here: the library stays Ray-free."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from typing import Any

import httpx
import psutil

from lfr_core.config import PROJECT_ROOT, Settings
from lfr_core.errors import Service
from lfr_ops.local_stack.process import (
    ManagedProcess,
    ServiceError,
    kill_leftovers,
    port_in_use_message,
    port_is_free,
    require_free_port,
)

START_TIMEOUT_S = 180.0
PURPOSE = "the Ray Serve HTTP API and operator console"
NUM_CPUS = int(os.environ.get("LFR_SERVE_NUM_CPUS", "0")) or max(1, min(os.cpu_count() or 2, 2))


def _process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("serve", settings.home / "run", settings.home / "logs")


def address(settings: Settings) -> str:
    return f"http://{settings.serve.host}:{settings.serve.port}"


def _healthy(settings: Settings) -> bool:
    try:
        return httpx.get(address(settings) + "/healthz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def start(settings: Settings) -> bool:
    proc = _process(settings)
    if proc.pid() is not None:
        return False
    require_free_port(settings.serve.host, settings.serve.port, "serve", setting="LFR_SERVE__PORT", purpose=PURPOSE)
    env = {**os.environ, "LFR_HOME": str(settings.home),
           "LFR_SERVE_RAY_ADDRESS_FILE": str(settings.serve_ray_address_file),
           "LFR_SERVE_RAY_TOKEN_FILE": str(settings.serve_ray_token_file)}
    pid = proc.start([sys.executable, "-m", "ray_apps.launch", "--host", settings.serve.host,
                      "--port", str(settings.serve.port), "--num-cpus", str(NUM_CPUS)], env=env, cwd=PROJECT_ROOT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            proc.stop()
            if not port_is_free(settings.serve.host, settings.serve.port):  # taken since the check above
                raise ServiceError(port_in_use_message("serve", settings.serve.host, settings.serve.port,
                                                       "LFR_SERVE__PORT", PURPOSE) + f"; see {proc.log_file}",
                                   service=Service.LIVE_API)
            raise ServiceError(f"serve: the launcher exited during start; see {proc.log_file}",
                               service=Service.LIVE_API)
        if _healthy(settings):
            return True
        time.sleep(1.0)
    stop(settings)
    raise ServiceError(f"serve: not healthy at {address(settings)}/healthz after {START_TIMEOUT_S:.0f} s; "
                       f"see {proc.log_file}", service=Service.LIVE_API)


def stop(settings: Settings) -> bool:
    proc = _process(settings)
    pid = proc.pid()
    if pid is None:
        proc.pid_file.unlink(missing_ok=True)
        return False
    try:
        family = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        family = []
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)  # the launcher runs serve.shutdown() and ray.shutdown()
    psutil.wait_procs(family[:1], timeout=60)
    proc.stop(timeout_s=10)  # whatever of the group is still there
    kill_leftovers([p for p in family if p.is_running()], terminate=False)
    for path in (settings.serve_ray_address_file, settings.serve_ray_token_file):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return True


def status(settings: Settings) -> dict[str, Any]:
    pid = _process(settings).pid()
    base = address(settings)
    report: dict[str, Any] = {
        "address": base, "pid": pid, "healthy": False, "console": f"{base}/console", "docs": f"{base}/docs",
        "login": "your own name and password as a person of the platform (an operator assigned to the deployment: "
                 "`lfr deployment assign ID --person NAME`); cameras use keys from `lfr apikey create`",
    }
    if pid is None:
        report["note"] = "not started (lfr services up --serve)"
        return report
    report["healthy"] = _healthy(settings)
    return report
