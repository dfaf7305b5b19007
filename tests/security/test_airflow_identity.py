"""Airflow's accounts are the platform's people (issue 25 item 6), against Airflow started as the project
starts it (lfr_ops/local_stack/airflow_service.py), on free ports beside anyone else's.

What was done before: another OS account read every Airflow password from a 0644 file and signed in as an
authoriser; a disabled admin triggered a run with the account Airflow still had; the NOLOGIN owner role was
an Airflow user; task logs (0644) named every watchlist entry; both log servers listened on every interface."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import pytest
from psycopg.conninfo import conninfo_to_dict

from lfr_core.config import get_settings
from lfr_core.db.connection import admin_dsn, database_dsn
from lfr_core.identity import people, sessions
from lfr_core.workflow import tasks as orchestration
from lfr_ops.demo.ui import wait
from tests.conftest import (
    ADMIN,
    AUDITOR,
    AUTHORISER,
    OPERATOR,
    PASSWORD,
    PLANNER,
    environment,
    free_port,
)
from tests.security.conftest import superuser

DAG = "lfr_deployment"
SUBJECT_PREFIX = "SECREF-"


@pytest.fixture(scope="module")
def airflow(services):
    from lfr_ops.local_stack import airflow_service

    ports = {"LFR_AIRFLOW__PORT": str(free_port()), "LFR_AIRFLOW__LOG_SERVER_PORT": str(free_port()),
             "LFR_AIRFLOW__TRIGGERER_LOG_SERVER_PORT": str(free_port())}
    with environment(ports):
        settings = get_settings()
        try:
            assert airflow_service.start(settings) is True
            yield settings
        finally:
            airflow_service.stop(settings)


def _base(settings) -> str:
    return f"http://127.0.0.1:{settings.airflow.port}"


def _sign_in(settings, name: str, password: str) -> httpx.Response:
    return httpx.post(f"{_base(settings)}/auth/token", json={"username": name, "password": password}, timeout=60)


def _as(settings, name: str, password: str = PASSWORD) -> httpx.Client:
    signed_in = _sign_in(settings, name, password)
    assert signed_in.status_code == 201, (name, signed_in.text)
    return _with_token(settings, signed_in.json()["access_token"])


def _with_token(settings, token: str) -> httpx.Client:
    return httpx.Client(base_url=f"{_base(settings)}/api/v2", timeout=60, headers={"Authorization": f"Bearer {token}"})


def _trigger(client: httpx.Client, conf: dict) -> httpx.Response:
    return client.post(f"/dags/{DAG}/dagRuns", json={"logical_date": None, "conf": conf})


def _past_window(place: str) -> dict:
    """The trigger form filled in as a planner would (the API checks it against the form), with a past window."""
    past = datetime.now(UTC) - timedelta(hours=3)
    return orchestration.deployment_conf(place=place, manifest_uri="", planner="", window_start=past,
                                         window_end=past + timedelta(hours=1), authorising_officer=AUTHORISER.name,
                                         intelligence_ref=f"INT-{uuid.uuid4().hex[:8]}", demo=False)


def _hitl(run_id: str) -> str:
    return f"/dags/{DAG}/dagRuns/{quote(run_id, safe='')}/taskInstances/approve_watchlist/-1/hitlDetails"


def _new_person(settings, role: str) -> str:
    name = f"sec-{role}-{uuid.uuid4().hex[:8]}"
    with superuser(settings) as conn:
        people.add(conn, name, [role], PASSWORD)
    return name


@pytest.mark.slow
def test_people_sign_in_with_their_platform_password_and_get_only_their_roles_rights(airflow):
    planner, authoriser, admin, auditor = (_as(airflow, p.name) for p in (PLANNER, AUTHORISER, ADMIN, AUDITOR))
    for reader in (planner, authoriser, admin, auditor):
        listed = reader.get("/dags", params={"limit": 100})
        assert listed.status_code == 200 and DAG in {d["dag_id"] for d in listed.json()["dags"]}
        # Nobody reads or changes Airflow's connections, variables or configuration, or pauses a DAG.
        assert reader.get("/connections").status_code == 403 and reader.get("/variables").status_code == 403
        assert reader.get("/config").status_code == 403
        assert reader.patch(f"/dags/{DAG}", json={"is_paused": True}).status_code == 403
    # An operator has nothing to do in Airflow: refused at sign-in.
    operator = _sign_in(airflow, OPERATOR.name, PASSWORD)
    assert operator.status_code == 403 and "nothing to do in Airflow" in operator.text

    # Only a planner triggers, and the run is theirs (a whole form whose window has passed: its first task
    # refuses it at once and nothing is built).
    for other in (authoriser, admin, auditor):
        assert _trigger(other, _past_window("Refused Road")).status_code == 403
    run = _trigger(planner, _past_window("Planner Road"))
    assert run.status_code == 200, run.text
    assert run.json()["triggering_user_name"] == PLANNER.name

    # Only an authoriser may answer a Required Action: past Airflow's permission, this run has none (404).
    run_id = run.json()["dag_run_id"]
    assert authoriser.patch(_hitl(run_id), json={"chosen_options": ["Approve"]}).status_code == 404
    for other in (planner, admin, auditor):
        assert other.patch(_hitl(run_id), json={"chosen_options": ["Approve"]}).status_code == 403

    # The audit view: admins and auditors only.
    for name, allowed in ((AUDITOR.name, 200), (ADMIN.name, 200), (PLANNER.name, 403), (AUTHORISER.name, 403)):
        token = _sign_in(airflow, name, PASSWORD).json()["access_token"]
        seen = httpx.get(f"{_base(airflow)}/lfr-audit/api/versions", cookies={"_token": token}, timeout=120)
        assert seen.status_code == allowed, (name, seen.status_code)


@pytest.mark.slow
def test_a_wrong_password_or_an_unknown_name_is_refused(airflow):
    assert _sign_in(airflow, PLANNER.name, PASSWORD + "x").status_code == 401
    assert _sign_in(airflow, PLANNER.name, "").status_code in (400, 401)
    assert _sign_in(airflow, "nobody-at-all", PASSWORD).status_code == 401
    form = httpx.post(f"{_base(airflow)}/auth/login", data={"username": PLANNER.name, "password": "wrong-password",
                                                            "next": "/"}, timeout=60)
    assert form.status_code == 401 and "_token" not in form.cookies


@pytest.mark.slow
def test_a_disabled_person_is_refused_at_once_with_the_token_they_hold(airflow):
    name = _new_person(airflow, "admin")
    token = _sign_in(airflow, name, PASSWORD).json()["access_token"]
    api = _with_token(airflow, token)
    assert api.get("/dags").status_code == 200
    ui = httpx.get(f"{_base(airflow)}/api/v2/dags", cookies={"_token": token}, timeout=60)
    assert ui.status_code == 200

    with sessions.connect_as(airflow, ADMIN.name, PASSWORD) as conn:
        people.disable(conn, name)
    # At once, not at Airflow's next restart nor when the token expires: the API, the UI's cookie, the audit
    # view, a trigger (as the disabled admin once did), and a fresh sign-in.
    assert api.get("/dags").status_code == 401
    assert httpx.get(f"{_base(airflow)}/api/v2/dags", cookies={"_token": token}, timeout=60).status_code == 401
    assert httpx.get(f"{_base(airflow)}/lfr-audit/", cookies={"_token": token}, timeout=60).status_code == 401
    assert _trigger(api, {"place": "Disabled Lane"}).status_code == 401
    assert _sign_in(airflow, name, PASSWORD).status_code == 401


@pytest.mark.slow
def test_the_owner_roles_service_logins_and_the_superuser_cannot_sign_in(airflow):
    for role in ("lfr_owner", "lfr_audit", "lfr_person", "lfr_system", "lfr_admin", "lfr_planner"):
        assert _sign_in(airflow, role, PASSWORD).status_code == 401, role
    for dsn in (admin_dsn(airflow), database_dsn(airflow)):  # the database administrator, the platform's login
        login = conninfo_to_dict(dsn)
        refused = _sign_in(airflow, str(login["user"]), str(login["password"]))
        assert refused.status_code == 401, (login["user"], refused.text)


@pytest.mark.slow
def test_a_platform_sign_in_token_is_exchanged_for_an_airflow_token_of_the_same_person(airflow):
    from lfr_core.identity import tokens

    platform_token, _ = tokens.issue(airflow, AUTHORISER.name)
    exchanged = httpx.post(f"{_base(airflow)}/auth/token/exchange",
                           headers={"Authorization": f"Bearer {platform_token}"}, timeout=60)
    assert exchanged.status_code == 201, exchanged.text
    me = httpx.get(f"{_base(airflow)}/ui/auth/me", cookies={"_token": exchanged.json()["access_token"]}, timeout=60)
    assert me.status_code == 200 and me.json()["username"] == AUTHORISER.name
    forged = httpx.post(f"{_base(airflow)}/auth/token/exchange", headers={"Authorization": "Bearer x.y.z"}, timeout=60)
    assert forged.status_code == 401
    operator_token, _ = tokens.issue(airflow, OPERATOR.name)
    assert httpx.post(f"{_base(airflow)}/auth/token/exchange", headers={"Authorization": f"Bearer {operator_token}"},
                      timeout=60).status_code == 403


def _subjects(settings) -> list[dict[str, str]]:
    from lfr_ops.demo.data import labelled_faces

    faces = sorted(labelled_faces(settings).items())[:2]
    rows = [{"subject_ref": f"{SUBJECT_PREFIX}{i:03d}", "category": "wanted_by_court", "rationale": "warrant",
             "provenance": "custody suite", "capture_date": "2024-03-01", "path": str(images[0].path)}
            for i, (_, images) in enumerate(faces)]
    rows.append({**rows[0], "subject_ref": f"{SUBJECT_PREFIX}two",
                 "path": str(settings.shared_dir / "data/faces/ageitgey/two_people.jpg")})
    return rows


@pytest.mark.slow
def test_a_builds_task_log_and_result_carry_counts_and_reasons_not_subjects(airflow, shared_dir):
    from datetime import UTC, datetime, timedelta

    from lfr_core.storage.objectstore import ObjectStore
    from lfr_core.workflow import tasks as orchestration
    from lfr_ops.demo.data import stage_custody_manifest

    manifest = stage_custody_manifest(ObjectStore(airflow), airflow, _subjects(airflow), f"sec-{uuid.uuid4().hex[:8]}")
    start = datetime.now(UTC) + timedelta(hours=2)
    conf = orchestration.deployment_conf(
        place="Log Lane", manifest_uri=manifest, planner="", window_start=start, window_end=start + timedelta(hours=1),
        threshold=airflow.match.threshold, intelligence_ref=f"INT-{uuid.uuid4().hex[:8]}", demo=False,
        authorising_officer=AUTHORISER.name, poke_interval_s=5, approve_with="airflow")
    planner = _as(airflow, PLANNER.name)
    run_id = _trigger(planner, conf).json()["dag_run_id"]
    task = f"/dags/{DAG}/dagRuns/{quote(run_id, safe='')}/taskInstances/build_watchlist"
    state = wait(lambda: planner.get(task).json().get("state"),
                 lambda s: s in ("success", "failed", "upstream_failed"), 400, "the build")
    assert state == "success"

    logged = planner.get(f"{task}/logs/1")
    assert logged.status_code == 200
    assert "2 accepted, 1 rejected" in logged.text and "rejected 1: " in logged.text, logged.text[-3000:]
    assert SUBJECT_PREFIX not in logged.text
    result = planner.get(f"{task}/xcomEntries/return_value")
    assert result.status_code == 200 and SUBJECT_PREFIX not in result.text and '"rejections"' in result.text
    run_logs = [p for p in (Path(airflow.home) / "airflow" / "logs").rglob("*") if p.is_file() and run_id in str(p)]
    assert any("build_watchlist" in str(p) for p in run_logs)
    for path in run_logs:
        assert SUBJECT_PREFIX not in path.read_text(errors="replace"), path


@pytest.mark.slow
def test_the_stacks_files_are_its_owners_alone_and_hold_no_password(airflow):
    from lfr_ops.local_stack import airflow_service

    home = airflow_service.airflow_home(airflow)
    assert (home / "airflow.db").is_file() and (home / "airflow.cfg").is_file() and (home / "logs").is_dir()
    readable = []
    for path in [home, *home.rglob("*"), airflow.home / "logs" / "airflow.log"]:
        if path.is_symlink():
            continue
        if path.stat().st_mode & 0o077:
            readable.append(f"{path} {oct(path.stat().st_mode & 0o777)}")
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), f"a person's password in {path}"
    assert not readable, readable
    assert not list(Path(airflow.home).rglob("*passwords*")), "no password file"


@pytest.mark.slow
def test_both_log_servers_and_the_api_listen_only_on_localhost(airflow):
    ports = {airflow.airflow.port, airflow.airflow.log_server_port, airflow.airflow.triggerer_log_server_port}
    listening: dict[int, set[str]] = {}
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr.port in ports:
            listening.setdefault(conn.laddr.port, set()).add(conn.laddr.ip)
    assert set(listening) == ports, listening
    assert all(addresses == {"127.0.0.1"} for addresses in listening.values()), listening
