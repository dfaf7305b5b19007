"""The admin audit view, end to end: `airflow standalone` started by the service module on the default
ports a new user gets (the one test that starts Airflow on them), a headless Chromium logging in with the
generated admin password, finding a watchlist version in the view and the safety-net DAGs running."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from lfr_core.config import AirflowSettings, get_settings
from tests.airflow.rows import insert_deployment, insert_version

CHROMIUM = Path("/usr/bin/chromium")
EXPECTED_DAGS = {"lfr_watchlist_expiry", "lfr_alert_retention", "lfr_deployment_report", "lfr_deployment"}


@pytest.fixture()
def airflow_running(services):
    from lfr_core.services import airflow_service

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


def _dags(page, base: str) -> dict[str, dict]:
    return {d["dag_id"]: d for d in page.request.get(f"{base}/api/v2/dags?limit=100").json()["dags"]}


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists() and not shutil.which("chromium"),
                    reason="Chromium is not installed (apt-get install -y chromium)")
def test_admin_logs_in_and_finds_a_watchlist_version_in_the_audit_view(airflow_running, db):
    from playwright.sync_api import sync_playwright

    from lfr_core.services import airflow_service

    settings = airflow_running
    now = datetime.now(UTC)
    deployment = insert_deployment(db, window_start=now + timedelta(hours=1), window_end=now + timedelta(hours=2),
                                   place="Audit View Plaza")
    version = insert_version(db, deployment, state="draft", accepted=2, rejected=1)
    db.commit()
    status = airflow_service.status(settings)
    for _ in range(30):  # a loaded machine can delay the scheduler's heartbeat past the health threshold
        if status["healthy"]:
            break
        time.sleep(2)
        status = airflow_service.status(settings)
    assert status["healthy"] and status["pid"], status
    base = status["address"]
    password = airflow_service.admin_password(settings)
    assert password
    # `lfr services status` tells a user where the UI is and where the generated password is kept.
    assert status["ui"] == base and status["audit_view"] == f"{base}/lfr-audit/"
    assert str(airflow_service.password_file(settings)) in status["login"]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        try:
            page = browser.new_page()
            anonymous = page.goto(f"{base}/lfr-audit/")
            assert anonymous.status == 401, "the audit view needs a login"
            page.goto(f"{base}/")
            page.wait_for_selector("input[name='username']", timeout=60_000)
            page.fill("input[name='username']", "admin")
            page.fill("input[name='password']", password)
            page.locator("button[type='submit']").click()
            page.wait_for_function("document.cookie !== undefined && !location.pathname.startsWith('/auth/login')",
                                   timeout=60_000)
            plugins = page.request.get(f"{base}/api/v2/plugins").json()
            views = [v for p in plugins["plugins"] for v in p["external_views"]]
            assert any(v["name"] == "LFR audit" and v["href"] == "/lfr-audit/" for v in views), plugins
            page.goto(f"{base}/plugin/lfr-audit")  # the view inside the Airflow UI (an iframe)
            page.frame_locator("iframe").get_by_text(str(version)).wait_for(timeout=60_000)
            response = page.goto(f"{base}/lfr-audit/")
            assert response.status == 200
            body = page.content()
            assert str(version) in body
            assert "Audit View Plaza" in body and "pc-rows" in body

            # The safety nets run from the first start: a fresh Airflow lists them unpaused.
            deadline = time.monotonic() + 120
            while not EXPECTED_DAGS <= set(dags := _dags(page, base)) and time.monotonic() < deadline:
                time.sleep(2)
            assert {d: dags[d]["is_paused"] for d in EXPECTED_DAGS} == dict.fromkeys(EXPECTED_DAGS, False)
        finally:
            browser.close()

    pid = status["pid"]
    airflow_service.stop(settings)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert airflow_service._leftovers(settings) == []
    assert airflow_service.status(settings)["pid"] is None
