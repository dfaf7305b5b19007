"""A service that is down means exit code 4 and one line naming it, never a traceback (and nothing changed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from lfr_core.config import get_settings
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.build import build_version
from tests.conftest import PLANNER, free_port, make_deployment, signed_in_env, subject_rows


def lfr_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lfr_ops.cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **signed_in_env(get_settings(), "ada.admin"), **env}, timeout=120)


def assert_unavailable(result: subprocess.CompletedProcess[str], service: str) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 4, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and len(lines) == 1 and service in lines[0], result.stderr


@pytest.fixture()
def draft(db, services, store, face_engine, identities, stage):
    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(subject_rows(identities, 1)), actor=PLANNER)
    return deployment, version


def test_s3_down_exits_4_naming_it_and_changes_nothing(db, draft):
    deployment, version = draft
    dead = {"LFR_S3__ENDPOINT": f"127.0.0.1:{free_port()}"}
    started = time.monotonic()
    for args in (("watchlist", "purge", str(version["id"]), "--reason", "test"),
                 ("audit", "verify"),
                 ("watchlist", "history", "SUBJ-X"),
                 ("watchlist", "build", "--deployment", str(deployment["id"]), "--manifest", "s3://lfr-sources/staging/outage/m.csv")):
        assert_unavailable(lfr_with(dead, *args), "S3 at 127.0.0.1:")
    assert time.monotonic() - started < 90, "an unreachable S3 must fail in seconds, not minutes of retries"
    db.rollback()
    assert lifecycle.get_version(db, version["id"])["state"] == "draft"


def test_postgres_down_exits_4_naming_it(services):
    dead = {"LFR_DB__PORT": str(free_port())}
    for args in (("deployment", "list"), ("watchlist", "show", "00000000-0000-0000-0000-000000000000"),
                 ("audit", "verify"), ("apikey", "list"), ("alert", "list", "--deployment", "x", "--reason", "checking")):
        assert_unavailable(lfr_with(dead, *args), "PostgreSQL at 127.0.0.1:")


def test_a_database_lost_mid_command_exits_4_with_one_line(capsys):
    import psycopg
    import typer

    from lfr_ops.cli.common import domain_errors

    with pytest.raises(typer.Exit) as stopped, domain_errors():
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command\nmore detail")
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert stopped.value.exit_code == 4 and len(lines) == 1
    assert "PostgreSQL at" in lines[0] and "administrator command" in lines[0] and "nothing was committed" in lines[0]
