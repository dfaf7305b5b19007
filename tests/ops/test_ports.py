"""Default ports a new user gets: none collides with another service of ours or with what Airflow, Ray and
PostgreSQL open themselves, and a taken port is named with its owner and the setting that moves it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from lfr_core.config import Settings
from lfr_ops.local_stack import airflow_service
from lfr_ops.local_stack.process import ServiceError, require_free_port

# Ports the components open on their own defaults: Airflow's API server and log servers, Ray's GCS,
# dashboard, client server, dashboard agent and Serve gRPC, PostgreSQL's default.
THEIR_DEFAULTS = {8080, 8793, 8794, 6379, 8265, 10001, 52365, 9000, 5432}
RAY_WORKER_PORTS = range(10002, 20000)


def _defaults() -> dict[str, int]:
    s = Settings(_env_file=None)
    return {"LFR_DB__PORT": s.db.port, "LFR_S3__ENDPOINT": int(s.s3.endpoint.rsplit(":", 1)[1]),
            "LFR_SERVE__PORT": s.serve.port, "LFR_AIRFLOW__PORT": s.airflow.port,
            "LFR_AIRFLOW__LOG_SERVER_PORT": s.airflow.log_server_port,
            "LFR_AIRFLOW__TRIGGERER_LOG_SERVER_PORT": s.airflow.triggerer_log_server_port}


def test_default_ports_are_distinct_and_collide_with_nothing_the_components_open(monkeypatch):
    for key in [k for k in os.environ if k.startswith("LFR_")]:
        monkeypatch.delenv(key)
    ports = _defaults()
    assert len(set(ports.values())) == len(ports), ports
    low, _ = (int(x) for x in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for setting, port in ports.items():
        assert port not in THEIR_DEFAULTS, f"{setting}={port} is a port Airflow, Ray or PostgreSQL opens itself"
        assert port not in RAY_WORKER_PORTS, f"{setting}={port} lies in Ray's worker port range"
        assert port < low, f"{setting}={port} lies in the kernel's ephemeral range (from {low})"


def test_airflow_ports_must_differ():
    with pytest.raises(ValueError, match="must differ"):
        Settings(_env_file=None, airflow={"port": 28793, "log_server_port": 28793})


@pytest.fixture()
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_a_taken_port_is_named_with_its_owner_and_setting(listener):
    with pytest.raises(ServiceError) as caught:
        require_free_port("127.0.0.1", listener, "serve", setting="LFR_SERVE__PORT", purpose="the Ray Serve HTTP API")
    message = str(caught.value)
    assert f"port {listener}" in message and "LFR_SERVE__PORT" in message and f"pid {os.getpid()}" in message


def test_airflow_refuses_to_start_when_its_log_server_port_is_taken(listener, tmp_path):
    settings = Settings(_env_file=None, home=tmp_path, airflow={"log_server_port": listener})
    with pytest.raises(ServiceError, match=f"port {listener}.*worker log server.*LFR_AIRFLOW__LOG_SERVER_PORT"):
        airflow_service.start(settings, timeout_s=5)
    assert airflow_service.status(settings)["pid"] is None


def test_status_says_how_to_sign_in_to_airflow_and_no_password_file_is_left(tmp_path):
    settings = Settings(_env_file=None, home=tmp_path)
    before = airflow_service.status(settings)
    assert "platform password" in before["login"] and "not started" in before["note"]
    # What Airflow's development-only auth manager wrote before: every account's password, world-readable.
    old = airflow_service.airflow_home(settings) / airflow_service.OLD_PASSWORD_FILE
    old.parent.mkdir(parents=True)
    old.write_text('{"admin": "secret"}')
    old.chmod(0o644)
    (old.parent / "airflow.db").write_bytes(b"")
    (old.parent / "airflow.db").chmod(0o644)
    home = airflow_service.make_private(settings)
    assert not old.exists() and oct(home.stat().st_mode & 0o777) == "0o700"
    assert oct((home / "airflow.db").stat().st_mode & 0o777) == "0o600"
    after = airflow_service.status(settings)
    assert "secret" not in str(after)
    assert after["ui"].endswith(f":{settings.airflow.port}") and after["audit_view"].endswith("/lfr-audit/")
