"""Issue 27's tests: "The Airflow approval body is checked in Chromium." A run under eu-ai-act asks for the approval
under Required Actions; the authoriser's page shows the deployment record (pack, use case, location rationale and
its references), the threshold floor, the live gate, the external authorisation's state and the link to the face
view. Airflow as the project starts it, on free ports (tests/dags/test_trigger_form.py's fixture)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from lfr_core.workflow import approval
from lfr_core.workflow import tasks as orchestration
from lfr_ops.demo.ui import AirflowAs, wait
from tests.browser import launch, needs_chromium, screenshot
from tests.conftest import AUTHORISER, PASSWORD, PLANNER
from tests.dags.test_trigger_form import _sign_in, airflow_up  # noqa: F401 (the module's Airflow)

PLACE = "Place Bellecour, Lyon"
RATIONALE = "The suspect of an armed robbery was seen at this square on three market days"


@pytest.mark.slow
@pytest.mark.browser
@needs_chromium
def test_the_approval_body_under_a_pack_shows_the_record_floor_gate_authorisation_and_face_view(airflow_up):  # noqa: F811
    from playwright.sync_api import sync_playwright

    settings, _, manifest = airflow_up
    planner = AirflowAs(settings, PLANNER.name, PASSWORD)
    start = datetime.now(UTC) + timedelta(hours=2)
    conf = orchestration.deployment_conf(
        place=PLACE, manifest_uri=manifest, planner="", window_start=start, window_end=start + timedelta(hours=1),
        authorising_officer=AUTHORISER.name, intelligence_ref=f"INT-{uuid.uuid4().hex[:8]}", poke_interval_s=5,
        demo=False, approve_with="airflow", policy="eu-ai-act", use_case="art5_1_h_iii", location_rationale=RATIONALE,
        dpia_ref="DPIA-LY-1", eia_ref="EIA-LY-2", fria_ref="FRIA-LY-3", registration_ref="EU-DB-LY-4")
    run_id = planner.trigger(conf)
    hitl = f"/dags/lfr_deployment/dagRuns/{quote(run_id, safe='')}/taskInstances/approve_watchlist/-1/hitlDetails"
    detail = wait(lambda: planner.api.get(hitl), lambda r: r.status_code == 200, 300, "the approval request").json()
    version_id = detail["body"].split(f"]({approval.FACES_VIEW}/", 1)[1].split("/", 1)[0]
    base = f"http://127.0.0.1:{settings.airflow.port}"
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1400}, timezone_id=settings.time_zone)
            _sign_in(page, base, AUTHORISER.name)
            page.goto(f"{base}/dags/lfr_deployment/runs/{quote(run_id, safe='')}/tasks/approve_watchlist/"
                      "required_actions")
            page.get_by_text(RATIONALE).first.wait_for(timeout=60_000)
            screenshot(page, "airflow-approval-body-eu-pack")
            shown = " ".join(page.inner_text("body").split())
            link = page.locator(f"a[href*='{approval.FACES_VIEW}/{version_id}/']")
            assert link.count() >= 1 and "See the accepted faces" in link.first.inner_text()
        finally:
            browser.close()
    for expected in ("Policy pack: eu-ai-act v3", "Use case: Localisation or identification of a suspect of an "
                     "Annex II offence", "Regulation (EU) 2024/1689 Art 5(1)(h)(iii)", f"Location rationale: {RATIONALE}",
                     "DPIA reference: DPIA-LY-1", "EIA reference: EIA-LY-2", "FRIA reference: FRIA-LY-3",
                     "REGISTRATION reference: EU-DB-LY-4", "Threshold floor: 0.3000", "Live gate: ",
                     "Reliable face size", "External authorisation: not yet authorised"):
        assert expected in shown, (expected, shown[:3000])
    # Tidy: the authoriser rejects it, so the draft is purged and the deployment cancelled.
    answered = AirflowAs(settings, AUTHORISER.name, PASSWORD).api.patch(hitl, json={"chosen_options": ["Reject"]})
    assert answered.status_code == 200, answered.text
