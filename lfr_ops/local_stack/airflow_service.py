"""Airflow for `lfr services up --airflow`: scheduler, DAG processor, triggerer, API server and both log
servers on 127.0.0.1 (lfr_ops/local_stack/airflow_stack.py, in place of `airflow standalone`), with a SQLite
metadata DB under LFR_HOME/airflow, this project's `dags/` and `airflow_plugins/`, and the LFR_* environment
passed through so tasks reach the same PostgreSQL and S3.

People sign in to Airflow as themselves, with their platform password, checked by PostgreSQL
(airflow_plugins/lfr_auth_manager.py); Airflow keeps no accounts and no password file. AIRFLOW_HOME is 0700
and everything in it 0600 (umask 077 for every component; what an older version left is tightened at start).

Airflow runs as a subprocess only: nothing here imports Airflow (lfr_core stays free of it). It is stopped
with SIGINT to its process group: Airflow's components shut down on KeyboardInterrupt, whereas SIGTERM was
seen to orphan the scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

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
    wait_for_port,
)

HOST = "127.0.0.1"
START_TIMEOUT_S = 240.0
AUTH_MANAGER = "lfr_auth_manager.LfrAuthManager"  # airflow_plugins/lfr_auth_manager.py (the plugins folder is on sys.path)
# What Airflow's SimpleAuthManager wrote before: every account's password, in the clear.
OLD_PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def _process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("airflow", settings.home / "run", settings.home / "logs")


def _bin_dir() -> Path:
    return Path(sys.executable).parent


def environment(settings: Settings) -> dict[str, str]:
    """The environment Airflow runs with (also usable for `airflow dags test`)."""
    home = airflow_home(settings)
    port = settings.airflow.port
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "airflow_plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(settings.airflow.parallelism),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Sign-in against the platform's people; a run's triggering user is one of them, whose roles the
        # database checks when the run acts (lfr_core/identity/people.py). Airflow's tokens last as the platform's do,
        # and are checked against the database on every request anyway.
        "AIRFLOW__CORE__AUTH_MANAGER": AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__API_AUTH__JWT_EXPIRATION_TIME": str(settings.identity.token_minutes * 60),
        "AIRFLOW__API_AUTH__JWT_CLI_EXPIRATION_TIME": str(settings.identity.token_minutes * 60),
        # SQLite lets one writer in at a time; a writer waits 5 s by default, and when the every-minute sweeps,
        # the scheduler's XComs and an API request all write at once a trigger answered 500 (seen once in four
        # full test runs). 60 s is a wait, not a failure.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        # Set explicitly: Airflow's own 8793/8794 defaults are where other Airflows (and once our API) listen.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.airflow.log_server_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.airflow.triggerer_log_server_port),
        # Task logs are their owner's alone (with umask 077: Airflow's defaults are 0o775 and 0o664).
        "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FOLDER_PERMISSIONS": "0o700",
        "AIRFLOW__LOGGING__FILE_TASK_HANDLER_NEW_FILE_PERMISSIONS": "0o600",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        # New DAG files show up within seconds rather than the default five minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "PATH": f"{_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
        # The tasks read the same LFR settings as this process, resolved to absolute values.
        "LFR_HOME": str(settings.home),
        "LFR_DB__PORT": str(settings.db.port),
        "LFR_S3__ENDPOINT": settings.s3.endpoint,
        "LFR_SHARED_DIR": str(settings.shared_dir),
    })
    for inherited in ("AIRFLOW__CORE__UNIT_TEST_MODE", "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS",
                      "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"):
        env.pop(inherited, None)
    return env


def make_private(settings: Settings) -> Path:
    """AIRFLOW_HOME 0700 and everything in it its owner's alone; the password file an older version had
    Airflow write is deleted (its accounts are gone). Returns AIRFLOW_HOME."""
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    (home / OLD_PASSWORD_FILE).unlink(missing_ok=True)
    for folder, _dirs, files in os.walk(home):
        os.chmod(folder, 0o700)
        for name in files:
            path = Path(folder) / name
            if not path.is_symlink():
                os.chmod(path, stat.S_IMODE(path.stat().st_mode) & 0o700)
    return home


def _private_log(proc: ManagedProcess) -> None:
    """The process log (what the components print) is its owner's alone too."""
    proc.log_file.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(proc.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    os.chmod(proc.log_file, 0o600)


def ports(settings: Settings) -> list[tuple[int, str, str]]:
    """Every port Airflow opens: (port, the setting that chooses it, what it is for)."""
    return [(settings.airflow.port, "LFR_AIRFLOW__PORT", "Airflow's API server and UI"),
            (settings.airflow.log_server_port, "LFR_AIRFLOW__LOG_SERVER_PORT", "Airflow's worker log server"),
            (settings.airflow.triggerer_log_server_port, "LFR_AIRFLOW__TRIGGERER_LOG_SERVER_PORT",
             "Airflow's triggerer log server")]


def _bind_failure(settings: Settings, log_file: Path, offset: int) -> str | None:
    """The port a component of Airflow could not bind, as its log (from `offset`, this start) names it."""
    try:
        with open(log_file, "rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
    except FileNotFoundError:
        return None
    if "address already in use" not in text.lower():
        return None
    candidates = ports(settings)
    named = [p for p in candidates if str(p[0]) in text] or [p for p in candidates if not port_is_free(HOST, p[0])]
    if named:
        port, setting, purpose = named[0]
        return port_in_use_message("airflow", HOST, port, setting, purpose)
    return "airflow: a component could not bind its port (Address already in use)"


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/api/v2/monitor/health", timeout=3) as response:
            health = json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return all(health.get(part, {}).get("status") == "healthy" for part in ("metadatabase", "scheduler"))


def start(settings: Settings, *, timeout_s: float = START_TIMEOUT_S) -> bool:
    """Start Airflow (lfr_ops/local_stack/airflow_stack.py) and wait until the API server and scheduler report
    healthy.

    Returns False if it was already running."""
    proc = _process(settings)
    if proc.pid() is not None:
        return False
    port = settings.airflow.port
    for needed, setting, purpose in ports(settings):
        require_free_port(HOST, needed, "airflow", setting=setting, purpose=purpose)
    home = make_private(settings)
    _private_log(proc)
    log_offset = proc.log_file.stat().st_size
    pid = proc.start([sys.executable, "-m", "lfr_ops.local_stack.airflow_stack"], env=environment(settings), cwd=home)
    process = psutil.Process(pid)
    deadline = time.monotonic() + timeout_s
    if not wait_for_port(HOST, port, timeout_s, proc=process):
        _fail_start(settings, proc, log_offset, f"the API server did not open {HOST}:{port} within {timeout_s:.0f}s")
    while not _healthy(port):
        if time.monotonic() > deadline or not process.is_running():
            _fail_start(settings, proc, log_offset, f"not healthy within {timeout_s:.0f}s")
        if _bind_failure(settings, proc.log_file, log_offset):
            _fail_start(settings, proc, log_offset, "a port was taken")
        time.sleep(1)
    return True


def _fail_start(settings: Settings, proc: ManagedProcess, log_offset: int, problem: str) -> NoReturn:
    bound = _bind_failure(settings, proc.log_file, log_offset)
    stop(settings)
    problem = bound or f"airflow: {problem}"
    raise ServiceError(f"{problem}; see {proc.log_file}", service=Service.AIRFLOW)


def _leftovers(settings: Settings) -> list[psutil.Process]:
    """Processes started for this AIRFLOW_HOME that escaped the process group (task runners use their own)."""
    home = str(airflow_home(settings))
    found = []
    for p in psutil.process_iter(["pid"]):
        try:
            if p.pid != os.getpid() and p.environ().get("AIRFLOW_HOME") == home:
                found.append(p)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def stop(settings: Settings) -> bool:
    stopped = _process(settings).stop(sig=signal.SIGINT, timeout_s=30.0)
    leftovers = _leftovers(settings)
    kill_leftovers(leftovers)
    return stopped or bool(leftovers)


def login_hint(settings: Settings) -> str:
    """How to sign in to the UI."""
    return ("a person of the platform, with their own name and platform password (checked by PostgreSQL); "
            "planners trigger runs, authorisers answer approvals, admins and auditors read")


def status(settings: Settings) -> dict[str, Any]:
    port = settings.airflow.port
    pid = _process(settings).pid()
    base = f"http://{HOST}:{port}"
    report: dict[str, Any] = {"healthy": pid is not None and _healthy(port), "address": base,
                              "pid": pid, "airflow_home": str(airflow_home(settings)),
                              "ui": base, "audit_view": f"{base}/lfr-audit/", "login": login_hint(settings)}
    if pid is None:
        report["note"] = "not started (lfr services up --airflow)"
    return report


def dags_test(settings: Settings, dag_id: str, conf: dict[str, Any], *, timeout_s: float = 900.0,
              log_path: Path | None = None) -> int:
    """Run one DAG run in-process with `airflow dags test` (no scheduler needed) and return its exit code.

    The metadata DB under LFR_HOME/airflow is migrated first (idempotent). For the demo:
    `dags_test(settings, "lfr_deployment", orchestration.deployment_conf(...))`, with an authoriser approving
    the draft meanwhile (`orchestration.approve_when_built` in a thread, or `lfr watchlist approve`)."""
    import subprocess

    env = environment(settings)
    make_private(settings)
    airflow = str(_bin_dir() / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600, umask=0o077)
    log_path = log_path or settings.home / "logs" / f"{dag_id}-test.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as log:
        done = subprocess.run([airflow, "dags", "test", dag_id, "--conf", json.dumps(conf)], env=env,
                              check=False, stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s, umask=0o077)
    return done.returncode
