"""Round trips through the real embedded PostgreSQL+pgvector and the real S3 server."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import psutil
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row

from lfr_core.db.connection import admin_dsn, connect
from lfr_core.db.harden import migrate_with_roles
from lfr_core.db.migrate import applied_migrations, available_migrations, migrate
from lfr_core.storage.objectstore import ObjectStore
from lfr_ops.local_stack import manager


def test_pgvector_round_trip_with_hnsw_cosine_query(services):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # As the database administrator: no login of the platform may create tables, TEMP ones included.
    with psycopg.connect(admin_dsn(services), row_factory=dict_row) as conn:
        register_vector(conn)
        conn.execute("CREATE TEMP TABLE probe (id int PRIMARY KEY, v vector(16))")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO probe VALUES (%s, %s)", [(i, v) for i, v in enumerate(vectors)])
        conn.execute("CREATE INDEX ON probe USING hnsw (v vector_cosine_ops)")
        query = vectors[42] + 0.01 * rng.normal(size=16).astype(np.float32)
        plan = conn.execute(
            "EXPLAIN SELECT id FROM probe ORDER BY v <=> %s LIMIT 1", (query,)
        ).fetchall()
        conn.execute("SET LOCAL enable_seqscan = off")
        row = conn.execute("SELECT id, v <=> %s AS dist FROM probe ORDER BY v <=> %s LIMIT 1", (query, query)).fetchone()
        assert row["id"] == 42
        assert row["dist"] < 0.01
        stored = conn.execute("SELECT v FROM probe WHERE id = 7").fetchone()["v"]
        np.testing.assert_allclose(stored.to_numpy(), vectors[7], rtol=1e-6)
        assert plan  # the query planned against the temp table


def test_object_store_put_get_and_versioning(services):
    store = ObjectStore(services)
    bucket = services.s3.bucket_alerts  # versioned; the platform's key may not delete in the reports bucket
    first = store.put_json(bucket, "tests/versioned.json", {"n": 1})
    second = store.put_json(bucket, "tests/versioned.json", {"n": 2})
    assert first.version_id and second.version_id and first.version_id != second.version_id
    assert json.loads(store.get_bytes(bucket, "tests/versioned.json")) == {"n": 2}
    assert json.loads(store.get_bytes(bucket, "tests/versioned.json", first.version_id)) == {"n": 1}
    assert store.delete_prefix(bucket, "tests/") == 2
    assert store.list_keys(bucket, "tests/", versions=True) == []


def test_migrations_applied_twice_change_nothing(services):
    with connect(services) as conn:
        before = applied_migrations(conn)
        tables = conn.execute("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").fetchone()["n"]
        conn.rollback()
        assert migrate_with_roles(services) == []  # as the schema's owner, through the administrator's login
        assert applied_migrations(conn) == before
        assert set(before) == {m.version for m in available_migrations()}
        assert conn.execute("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").fetchone()["n"] == tables
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            migrate(conn)  # the application's own login may not change the schema


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
