"""The local services as `lfr services` and `lfr config` run them: status, start and stop leaving no process, a
taken port named, bad settings named with their range (the round trips through PostgreSQL+pgvector and the S3
server: tests/db/test_database.py and tests/storage/test_object_store.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import psutil
import pytest

from lfr_ops.local_stack import manager


def test_status_reports_pgvector_and_the_s3_caveat(services):
    report = manager.status(services)
    assert report["postgres"]["healthy"] and report["postgres"]["pgvector"].startswith("0.")
    assert report["s3"]["healthy"] and "lifecycle" in report["s3"]["notes"]


def _lfr(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "lfr_ops.cli.main", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=180,
    )


def test_cli_services_lifecycle_leaves_no_process(tmp_path, service_env):
    from tests.conftest import free_port

    env = {
        "LFR_HOME": str(tmp_path / "home"),
        "LFR_DB__PORT": str(free_port()),
        "LFR_S3__ENDPOINT": f"127.0.0.1:{free_port()}",
    }
    up = _lfr(env, "services", "up", "--json")
    assert up.returncode == 0, up.stderr
    status = json.loads(_lfr(env, "services", "status", "--json").stdout.strip().splitlines()[-1])
    pids = [status["postgres"]["pid"], status["s3"]["pid"]]
    assert all(pids) and status["postgres"]["healthy"] and status["s3"]["healthy"]
    again = json.loads(_lfr(env, "services", "up", "--json").stdout.strip().splitlines()[-1])
    assert again["up"]["started"] == {"postgres": False, "s3": False}  # idempotent
    down = _lfr(env, "services", "down", "--json")
    assert down.returncode == 0
    assert not any(psutil.pid_exists(pid) for pid in pids)
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in " ".join(p.info["cmdline"] or [])]
    assert leftovers == []


def test_services_up_on_a_taken_port_names_the_port(tmp_path, service_env):
    import socket

    from tests.conftest import free_port

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        taken = blocker.getsockname()[1]
        env = {"LFR_HOME": str(tmp_path / "home"), "LFR_DB__PORT": str(taken), "LFR_S3__ENDPOINT": f"127.0.0.1:{free_port()}"}
        result = _lfr(env, "services", "up")
    assert result.returncode != 0
    assert f"port {taken}" in result.stderr
    _lfr(env, "services", "down")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [("LFR_DB__PORT", "99999", "less than or equal to 65535"),
     ("LFR_MATCH__THRESHOLD", "3", "less than or equal to 0.99"),
     ("LFR_MATCH__THRESHOLD", "-0.5", "greater than or equal to 0.05")],
)
def test_bad_config_value_names_field_and_range(variable, value, expected):
    result = _lfr({variable: value}, "config", "show")
    assert result.returncode == 2
    assert variable in result.stderr and expected in result.stderr


def test_config_show_masks_secrets():
    result = _lfr({"LFR_S3__SECRET_KEY": "very-secret-value"}, "config", "show", "--json")
    assert result.returncode == 0
    assert "very-secret-value" not in result.stdout
    assert json.loads(result.stdout.strip().splitlines()[-1])["s3"]["secret_key"] == "**********"


def test_missing_shared_dir_is_reported_not_a_crash(services, tmp_path):
    result = _lfr({"LFR_SHARED_DIR": str(tmp_path / "nowhere")}, "services", "status", "--json")
    assert result.returncode == 0
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["shared_dir"]["present"] is False and "missing" in report["shared_dir"]["note"]
