"""Airflow's components for `lfr services up --airflow`, run as one process group in place of `airflow
standalone`: standalone forces its development-only SimpleAuthManager (every person's password generated
into a file) and starts both log servers on every interface. Here the API server signs people in against the
platform (airflow_plugins/lfr_auth_manager.py), the scheduler and triggerer start no log server of their own,
and the two log servers are run apart on 127.0.0.1.

Run by lfr_ops/local_stack/airflow_service.py as `python -m lfr_ops.local_stack.airflow_stack` with Airflow's
environment. Everything it starts inherits umask 077, so AIRFLOW_HOME (airflow.cfg with its JWT secret,
airflow.db with every run's conf, the task logs) is its owner's alone. SIGINT to the group stops every
component (as standalone did); one that dies stops the others, so a half-running Airflow never reports healthy.
Nothing here imports Airflow.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
STOP_TIMEOUT_S = 30.0


def commands(env: dict[str, str]) -> dict[str, list[str]]:
    """Each component and its command line; the log servers' ports come from Airflow's own settings."""
    airflow = str(Path(sys.executable).parent / "airflow")

    def log_server(port_setting: str) -> list[str]:
        return [sys.executable, "-m", "uvicorn", "airflow.utils.serve_logs.log_server:get_app", "--factory",
                "--host", HOST, "--port", env[port_setting], "--no-access-log", "--log-level", "warning"]

    return {
        "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
        "api-server": [airflow, "api-server"],
        "worker-log-server": log_server("AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"),
        "triggerer-log-server": log_server("AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"),
    }


def _relay(name: str, stream: IO[bytes]) -> None:
    """A component's output, each line named (as standalone did), onto this process's own (the log file)."""
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:20} | {line.decode(errors='replace').rstrip()}\n")
        sys.stdout.flush()


def _stop(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for proc in procs.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM too stops the components rather than orphaning them


def main() -> int:
    os.umask(0o077)
    signal.signal(signal.SIGTERM, _interrupt)
    env = dict(os.environ)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        migrated = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env,
                                  check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _relay("db-migrate", io.BytesIO(migrated.stdout))
        if migrated.returncode != 0:
            return migrated.returncode
        for name, cmd in commands(env).items():
            procs[name] = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL)
            assert procs[name].stdout is not None
            threading.Thread(target=_relay, args=(name, procs[name].stdout), daemon=True).start()
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"{'airflow-stack':20} | {name} exited with {proc.returncode}: stopping the others",
                          flush=True)
                    _stop(procs)
                    return 1
            time.sleep(0.5)
    except KeyboardInterrupt:  # SIGINT to the process group: the components got it too
        print(f"{'airflow-stack':20} | shutting down", flush=True)
        _stop(procs)
        return 0


if __name__ == "__main__":
    sys.exit(main())
