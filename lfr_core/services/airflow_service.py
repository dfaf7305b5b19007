"""`airflow standalone` for `lfr services up --airflow`: scheduler, DAG processor, triggerer and API server
on 127.0.0.1, with a SQLite metadata DB under LFR_HOME/airflow, this project's `dags/` and
`airflow_plugins/`, and the LFR_* environment passed through so tasks reach the same PostgreSQL and S3.

Airflow runs as a subprocess only: nothing here imports Airflow (lfr_core stays free of it). It is stopped
with SIGINT to its process group: standalone shuts its components down on KeyboardInterrupt, whereas
SIGTERM was seen to orphan the scheduler.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NoReturn

import psutil

from lfr_core.config import PROJECT_ROOT, Settings
from lfr_core.services.process import (
    ManagedProcess,
    ServiceError,
    kill_leftovers,
    port_in_use_message,
    port_is_free,
    require_free_port,
    wait_for_port,
)

HOST = "127.0.0.1"
ADMIN_USER = "admin"
START_TIMEOUT_S = 240.0


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def password_file(settings: Settings) -> Path:
    return airflow_home(settings) / "simple_auth_manager_passwords.json.generated"


def _process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("airflow", settings.home / "run", settings.home / "logs")


def _bin_dir() -> Path:
    return Path(sys.executable).parent


# Planners trigger deployment runs and authorisers answer approvals (both write: Airflow's "user" role); the
# others read. What a person may do to the platform's data is still decided by the database, per person.
AIRFLOW_ROLE_OF = {"admin": "admin", "planner": "user", "authoriser": "user"}


def airflow_users(settings: Settings) -> str:
    """Airflow's sign-ins: its own administrator, and each person of the platform under the same name, so a
    run's triggering user is a person whose roles the database checks when the run acts (lfr_core/people.py).
    Airflow gives each a generated password (`password_file`)."""
    import psycopg

    from lfr_core import people
    from lfr_core.db.connection import DatabaseUnavailable, connect

    users = [f"{ADMIN_USER}:admin"]
    try:
        with connect(settings, vector=False) as conn:
            for person in people.list_people(conn):
                role = next((AIRFLOW_ROLE_OF[r] for r in AIRFLOW_ROLE_OF if r in person["roles"]), "viewer")
                users.append(f"{person['name']}:{role}")
    except (DatabaseUnavailable, psycopg.Error):
        pass  # not up or not migrated yet: the administrator only
    return ",".join(users)


def environment(settings: Settings) -> dict[str, str]:
    """The environment `airflow standalone` runs with (also usable for `airflow dags test`)."""
    home = airflow_home(settings)
    port = settings.airflow.port
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "airflow_plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(settings.airflow.parallelism),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API__HOST": HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://{HOST}:{port}",
        # Set explicitly: Airflow's own 8793/8794 defaults are where other Airflows (and once our API) listen.
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(settings.airflow.log_server_port),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(settings.airflow.triggerer_log_server_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{HOST}:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": airflow_users(settings),
        # New DAG files show up within seconds rather than the default five minutes.
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "PATH": f"{_bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
        # The tasks read the same LFR settings as this process, resolved to absolute values.
        "LFR_HOME": str(settings.home),
        "LFR_DB__PORT": str(settings.db.port),
        "LFR_S3__ENDPOINT": settings.s3.endpoint,
        "LFR_SHARED_DIR": str(settings.shared_dir),
    })
    env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    return env


def admin_password(settings: Settings) -> str | None:
    try:
        return json.loads(password_file(settings).read_text()).get(ADMIN_USER)
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def ports(settings: Settings) -> list[tuple[int, str, str]]:
    """Every port `airflow standalone` opens: (port, the setting that chooses it, what it is for)."""
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
    """Start `airflow standalone` and wait until the API server and scheduler report healthy.

    Returns False if it was already running. Prints the admin login once, when Airflow first generates it."""
    proc = _process(settings)
    if proc.pid() is not None:
        return False
    port = settings.airflow.port
    for needed, setting, purpose in ports(settings):
        require_free_port(HOST, needed, "airflow", setting=setting, purpose=purpose)
    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    first_run = not password_file(settings).exists()
    log_offset = proc.log_file.stat().st_size if proc.log_file.exists() else 0
    pid = proc.start([str(_bin_dir() / "airflow"), "standalone"], env=environment(settings), cwd=home)
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
    password = admin_password(settings)
    if first_run and password:
        print(f"Airflow UI http://{HOST}:{port} login: {ADMIN_USER} / {password} "
              f"(kept in {password_file(settings)}; `lfr services status` says where)", file=sys.stderr)
    return True


def _fail_start(settings: Settings, proc: ManagedProcess, log_offset: int, problem: str) -> NoReturn:
    bound = _bind_failure(settings, proc.log_file, log_offset)
    stop(settings)
    problem = bound or f"airflow: {problem}"
    raise ServiceError(f"{problem}; see {proc.log_file}")


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
    """How to sign in to the UI: the user, and where the generated password is kept (shown once at first start)."""
    if password_file(settings).exists():
        return f"user {ADMIN_USER}, password in {password_file(settings)}"
    return f"user {ADMIN_USER}; the password is generated at first start into {password_file(settings)}"


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
    airflow_home(settings).mkdir(parents=True, exist_ok=True)
    airflow = str(_bin_dir() / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    log_path = log_path or settings.home / "logs" / f"{dag_id}-test.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        done = subprocess.run([airflow, "dags", "test", dag_id, "--conf", json.dumps(conf)], env=env,
                              stdout=log, stderr=subprocess.STDOUT, timeout=timeout_s)
    return done.returncode
