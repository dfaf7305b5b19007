"""Airflow's UI, end to end: Airflow started once by the service module on the default ports a
new user gets (the one module that starts Airflow on them), and a headless Chromium: the admin finds a
watchlist version in the audit view and the safety-net DAGs running; an authoriser follows the approval's link to
the list's faces (crops, a probe tested, both audited) and approves it under Required Actions, where its builder and
an unassigned authoriser cannot. Screenshots go to `artefacts`."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import psutil
import pytest

from lfr_core.config import AirflowSettings, get_settings
from lfr_ops.demo.ui import AirflowAs, DemoStopped, wait
from tests.browser import launch, needs_chromium, screenshot
from tests.rows import insert_deployment, insert_version
from tests.watchlist.test_inspection import _consultations

EXPECTED_DAGS = {"lfr_watchlist_expiry", "lfr_alert_retention", "lfr_deployment_report", "lfr_deployment"}


@pytest.fixture(scope="module")
def airflow_running(services):
    from lfr_ops.local_stack import airflow_service
    from tests.conftest import add_people

    add_people(services)  # Airflow's users are the platform's people, signed in with their platform passwords
    overridden = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("LFR_AIRFLOW__")}
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.airflow.port == AirflowSettings().port, "this test runs Airflow on the defaults"
    try:
        assert airflow_service.start(settings) is True
        yield settings
    finally:
        airflow_service.stop(settings)
        os.environ.update(overridden)
        get_settings.cache_clear()


def _healthy_status(settings) -> dict:
    from lfr_ops.local_stack import airflow_service

    status = airflow_service.status(settings)
    for _ in range(30):  # a loaded machine can delay the scheduler's heartbeat past the health threshold
        if status["healthy"]:
            break
        time.sleep(2)
        status = airflow_service.status(settings)
    assert status["healthy"] and status["pid"], status
    return status


def _sign_in(page, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/")
    page.wait_for_selector("input[name='username']", timeout=60_000)
    page.fill("input[name='username']", user)
    page.fill("input[name='password']", password)
    page.locator("button[type='submit']").click()
    page.wait_for_function("!location.pathname.startsWith('/auth/login')", timeout=60_000)


def _wait_for(fetch, done, timeout_s: float, what: str, stop=None):
    try:
        return wait(fetch, done, timeout_s, what, poll_s=2.0, stop=stop)
    except (TimeoutError, DemoStopped):
        _print_airflow_log_tail()  # CI keeps no Airflow home: what the components said goes into the report
        raise


def _print_airflow_log_tail(lines: int = 120) -> None:
    from lfr_ops.local_stack import airflow_service

    log_file = airflow_service._process(get_settings()).log_file
    if log_file.exists():
        tail = log_file.read_text(errors="replace").splitlines()[-lines:]
        print(f"--- the last {len(tail)} lines of {log_file} ---", *tail, sep="\n")


def _subjects(settings, n: int = 3) -> list[dict[str, str]]:
    from lfr_ops.demo.data import labelled_faces

    faces = sorted(labelled_faces(settings).items())[:n]
    rows = [{"subject_ref": f"RA-{i:03d}", "category": "wanted_by_court", "rationale": "warrant issued by the court",
             "provenance": "custody suite", "capture_date": "2024-03-01", "path": str(images[0].path)}
            for i, (_, images) in enumerate(faces)]
    rows.append({**rows[0], "subject_ref": "RA-two", "path": str(settings.shared_dir / "data/faces/ageitgey/two_people.jpg")})
    return rows


def _trigger(planner, settings, place: str, **conf_overrides) -> str:
    from lfr_core.storage.objectstore import ObjectStore
    from lfr_core.workflow import tasks as orchestration
    from lfr_ops.demo.data import stage_custody_manifest
    from tests.conftest import AUTHORISER

    manifest = stage_custody_manifest(ObjectStore(settings), settings, _subjects(settings), f"ui-{uuid.uuid4().hex[:8]}")
    start = datetime.now(UTC) + timedelta(hours=2)
    conf = orchestration.deployment_conf(
        place=place, manifest_uri=manifest, planner="", window_start=start, window_end=start + timedelta(hours=1),
        threshold=settings.match.threshold, intelligence_ref=f"INT-{uuid.uuid4().hex[:8]}", demo=False,
        authorising_officer=AUTHORISER.name, poke_interval_s=5, approve_with="airflow")
    conf.update(conf_overrides)
    return planner.trigger(conf)


def _task_state(client: httpx.Client, run_id: str, task_id: str) -> str | None:
    return client.get(f"/dags/lfr_deployment/dagRuns/{run_id}/taskInstances/{task_id}").json().get("state")


def _run_states(client: httpx.Client, run_id: str) -> dict[str, str | None]:
    """Every task's state in the run, so a wait that times out says where the run stood (a worker slot still
    queued, the HITL task not yet resumed, ...), not only that the awaited task had no state."""
    listed = client.get(f"/dags/lfr_deployment/dagRuns/{run_id}/taskInstances", params={"limit": 100}).json()
    return {ti["task_id"]: ti["state"] for ti in listed.get("task_instances", [])}


def _failed_upstream(states: dict[str, str | None]) -> str | None:
    failed = sorted(task for task, state in states.items() if state in ("failed", "upstream_failed"))
    return f"failed: {', '.join(failed)}" if failed else None


@pytest.mark.slow
@pytest.mark.browser
@needs_chromium
def test_an_authoriser_approves_in_required_actions_where_the_builder_cannot(airflow_running, services, db):
    from playwright.sync_api import sync_playwright

    from tests.conftest import AUTHORISER, PASSWORD, PLANNER

    settings = airflow_running
    base = _healthy_status(settings)["address"]
    planner_as = AirflowAs(settings, PLANNER.name, PASSWORD)  # Airflow's REST API as the planner (lfr_ops/demo/ui.py)
    planner = planner_as.api
    run_id = _trigger(planner_as, services, "Required Actions Square")
    hitl = f"/dags/lfr_deployment/dagRuns/{run_id}/taskInstances/approve_watchlist/-1/hitlDetails"
    detail = _wait_for(lambda: planner.get(hitl), lambda r: r.status_code == 200, 300, "the approval request").json()
    # What the authoriser sees: the terms, the counts, every rejection's reason, the model and threshold.
    for shown in ("Required Actions Square", "accepted: **3**", "rejected: **1**", "faces found", "Threshold"):
        assert shown in detail["body"], shown
    assert detail["options"] == ["Approve", "Reject"] and not detail["defaults"]
    assert [u["id"] for u in detail["assigned_users"]] == [AUTHORISER.name]

    # The builder, and an authoriser not assigned to this deployment, are refused by Airflow.
    refused = planner.patch(hitl, json={"chosen_options": ["Approve"]})
    assert refused.status_code == 403, refused.text
    pam = AirflowAs(settings, "pam.both", PASSWORD).api
    assert pam.patch(hitl, json={"chosen_options": ["Approve"]}).status_code == 403

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            _sign_in(page, base, AUTHORISER.name, PASSWORD)
            page.goto(f"{base}/required_actions")
            page.get_by_text("approve_watchlist").first.wait_for(timeout=60_000)
            screenshot(page, "airflow-required-actions")
            page.goto(f"{base}/dags/lfr_deployment/runs/{run_id}/tasks/approve_watchlist/required_actions")
            page.get_by_text("Required Actions Square").first.wait_for(timeout=60_000)
            screenshot(page, "airflow-approval-brief")
            faces = _faces_behind_the_counts(page, base, settings)
            page.goto(f"{base}/dags/lfr_deployment/runs/{run_id}/tasks/approve_watchlist/required_actions")
            page.get_by_role("button", name="Approve").click()
            answered = _wait_for(lambda: planner.get(hitl).json(), lambda d: d.get("response_received"), 60,
                                 "the answer")
            screenshot(page, "airflow-approval-answered")
        finally:
            browser.close()
    assert answered["responded_by_user"]["id"] == AUTHORISER.name and answered["chosen_options"] == ["Approve"]
    # Two task processes in turn (the approval resumed, then the sensor) on a loaded 2-slot LocalExecutor.
    _wait_for(lambda: _run_states(planner, run_id), lambda s: s.get("wait_for_approval") == "success", 480,
              "the sealed list", stop=_failed_upstream)
    version = db.execute(
        """SELECT v.* FROM watchlist_versions v JOIN deployments d ON d.id = v.deployment_id
           WHERE d.place = 'Required Actions Square'""").fetchone()
    db.rollback()
    assert version["state"] == "approved" and version["approved_by"] == AUTHORISER.name
    assert version["built_by"] == PLANNER.name
    assert faces == str(version["id"])
    consulted = [(r["action"], r["actor"], r["details"]["reason"]) for r in _consultations(db, faces)]
    assert consulted == [("consulted.watchlist_faces", AUTHORISER.name, FACES_REASON),
                         ("consulted.watchlist_probe", AUTHORISER.name, FACES_REASON)], consulted


FACES_REASON = "checking the list before approving it"


def _faces_behind_the_counts(page, base: str, settings) -> str:
    """The authoriser follows the approval body's link to the face view (airflow_plugins/lfr_watchlist_view.py,
    mounted by Airflow's API server behind its own login): a reason first, then the accepted faces' crops inline,
    then another photograph of a listed person tested as a probe. Returns the version the link named."""
    import re

    from lfr_ops.demo.data import labelled_faces

    link = page.get_by_role("link", name=re.compile("See the accepted faces"))
    href = link.get_attribute("href")
    version_id = re.fullmatch(r"/lfr-watchlist/([0-9a-f-]{36})/", href or "")
    assert version_id, href
    page.goto(f"{base}{href}")
    page.fill("input[name='reason']", FACES_REASON)
    page.get_by_role("button", name="View faces").click()
    crops = page.locator("img[src^='data:image/jpeg;base64,']")
    crops.first.wait_for(timeout=60_000)
    assert crops.count() == 3  # the accepted faces, as crops; never the custody photographs
    _, images = sorted(labelled_faces(settings).items())[0]  # RA-000's person (_subjects), another photograph
    page.set_input_files("#probe-file", str(images[1].path))
    page.locator("#probe button").click()
    page.locator("#probe-result:has-text('RA-000')").wait_for(timeout=60_000)
    screenshot(page, "airflow-faces-view")
    return version_id.group(1)


@pytest.mark.slow
def test_an_unanswered_approval_times_out_without_approving(airflow_running, services, db):
    from tests.conftest import PASSWORD, PLANNER

    settings = airflow_running
    _healthy_status(settings)
    planner_as = AirflowAs(settings, PLANNER.name, PASSWORD)
    planner = planner_as.api
    run_id = _trigger(planner_as, services, "Unanswered Approval Lane", approval_timeout_minutes=0.75)
    state = _wait_for(lambda: _task_state(planner, run_id, "approve_watchlist"),
                      lambda s: s in ("failed", "success", "skipped", "upstream_failed"), 300, "the approval's end")
    assert state == "failed"
    _wait_for(lambda: _task_state(planner, run_id, "wait_for_approval"), lambda s: s == "upstream_failed", 180,
              "the sensor marked upstream_failed by the scheduler")
    row = db.execute(
        """SELECT v.state, v.approved_by, d.status FROM watchlist_versions v JOIN deployments d ON d.id = v.deployment_id
           WHERE d.place = 'Unanswered Approval Lane'""").fetchone()
    db.rollback()
    assert row == {"state": "purged", "approved_by": None, "status": "cancelled"}


def _dags(page, base: str) -> dict[str, dict]:
    return {d["dag_id"]: d for d in page.request.get(f"{base}/api/v2/dags?limit=100").json()["dags"]}


@pytest.mark.slow
@pytest.mark.browser
@needs_chromium
def test_admin_logs_in_and_finds_a_watchlist_version_in_the_audit_view(airflow_running, db, services, store):
    from playwright.sync_api import sync_playwright

    from lfr_core.audit import checkpoints as audit_checkpoints
    from lfr_core.reporting import audit_overview
    from lfr_ops.local_stack import airflow_service
    from tests.conftest import ADMIN, PASSWORD, PLANNER

    settings = airflow_running
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now + timedelta(hours=1), window_end=now + timedelta(hours=2),
                                   place="Audit View Plaza")
    version = insert_version(db, deployment, state="draft", accepted=2, rejected=1)
    db.commit()
    anchor = audit_checkpoints.checkpoint(db, store, services)  # the view shows the latest anchor
    status = _healthy_status(settings)
    base = status["address"]
    # `lfr services status` tells a user where the UI is and how to sign in (their own platform password).
    assert status["ui"] == base and status["audit_view"] == f"{base}/lfr-audit/"
    assert "platform password" in status["login"]

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page()
            anonymous = page.goto(f"{base}/lfr-audit/")
            assert anonymous.status == 401, "the audit view needs a login"
            _sign_in(page, base, ADMIN.name, PASSWORD)
            plugins = page.request.get(f"{base}/api/v2/plugins").json()
            views = [v for p in plugins["plugins"] for v in p["external_views"]]
            assert any(v["name"] == "LFR audit" and v["href"] == "/lfr-audit/" for v in views), plugins
            page.set_viewport_size({"width": 1366, "height": 768})  # a laptop
            page.goto(f"{base}/plugin/lfr-audit")  # the view inside the Airflow UI (an iframe)
            page.frame_locator("iframe").get_by_text("Audit View Plaza").wait_for(timeout=60_000)
            screenshot(page, "airflow-audit-view")
            response = page.goto(f"{base}/lfr-audit/?place=audit+view")
            assert response.status == 200
            body = page.content()
            assert str(version) in body and "Audit View Plaza" in body and "pc-rows" in body
            assert "no face found" in body, "the rejected entries with their reasons"
            chain = page.inner_text("#chain")
            truth = audit_overview.chain_status(db, store, services)  # what the view must say
            assert ("Audit chain: verified" in chain) == truth["ok"] and "Last anchor" in chain, chain
            assert f"{anchor['tree_size']} rows signed" in chain or truth["last_anchor_rows"] > anchor["tree_size"]
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, "readable on a laptop screen without scrolling sideways"
            assert "Audit View Plaza" not in page.goto(f"{base}/lfr-audit/?place=nowhere-at-all").text()
            page.goto(f"{base}/lfr-audit/?place=audit+view")
            screenshot(page, "airflow-audit-view-filtered")

            planner_page = browser.new_page()
            _sign_in(planner_page, base, PLANNER.name, PASSWORD)
            assert planner_page.goto(f"{base}/lfr-audit/").status == 403, "admins and auditors only"

            # The safety nets run from the first start: a fresh Airflow lists them unpaused.
            deadline = time.monotonic() + 120
            while not set(dags := _dags(page, base)) >= EXPECTED_DAGS and time.monotonic() < deadline:
                time.sleep(2)
            assert {d: dags[d]["is_paused"] for d in EXPECTED_DAGS} == dict.fromkeys(EXPECTED_DAGS, False)
        finally:
            browser.close()

    pid = status["pid"]
    airflow_service.stop(settings)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert airflow_service._leftovers(settings) == []
    assert airflow_service.status(settings)["pid"] is None
