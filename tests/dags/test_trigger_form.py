"""The `lfr_deployment` trigger form speaks to planners and refuses bad input before anything runs (issue 31
item 6): its fields are what a planner decides, in plain words (airflow_plugins/lfr_trigger_form.py); the demo
and test knobs come through the API's conf only; what the schema can check is refused when the run is asked
for, by the form in the browser and by the API; the rest by the run's first task, with the reason in the run's
note (tests/dags/test_deployment_dag.py checks each case through `dag.test()`; here once through the real
scheduler). The form is checked in Chromium against Airflow started as the project starts it, on free ports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from lfr_core.config import Settings, get_settings
from lfr_core.watchlist.sources import StagedFolder
from lfr_core.workflow import tasks as orchestration
from lfr_core.workflow.trigger import CONF_ONLY, FormChoices
from lfr_ops.demo.ui import AirflowAs, wait
from tests.browser import launch, needs_chromium, screenshot
from tests.conftest import AUTHORISER, PASSWORD, PLANNER, environment, free_port

PLANNERS_FIELDS = ["place", "window_start", "window_end", "policy", "use_case", "location_rationale",
                   "allowed_categories", "purpose", "legal_basis", "intelligence_ref", "dpia_ref", "eia_ref", "fria_ref",
                   "registration_ref", "authorising_officer", "staged_folder", "threshold"]
LABELS = ["Place", "Window opens", "Window closes", "Policy pack", "Use case", "Location rationale",
          "Watchlist categories", "Purpose", "Legal basis", "Intelligence reference", "DPIA reference", "EIA reference",
          "FRIA reference", "REGISTRATION reference", "Authorising officer", "Custody images (staged folder)",
          "Match threshold"]
REQUIRED = {"Place", "Policy pack", "Use case", "Location rationale", "Purpose", "Legal basis", "Intelligence reference",
            "Window opens", "Window closes", "Authorising officer"}
# What the form showed a planner before (issue 31 item 6), and must not any more.
ENGINEERING_KNOBS = ["Planner (demo runs only)", "Demo mode", "Poll interval", "Approval timeout", "Approval:",
                     "airflow | cli", "s3://bucket/key.csv or a path", "(UTC)"]
FOLDER = StagedFolder("operation-nightjar", "s3://lfr-sources/staging/operation-nightjar/manifest.csv")


def _params(choices: FormChoices, settings: Settings | None = None):
    from airflow_plugins.lfr_trigger_form import deployment_params

    return deployment_params(settings or Settings(), choices)


def _validated(params, conf: dict) -> dict:
    """What Airflow does with a run's conf before the run exists (the API's trigger, `dag.test()`)."""
    from airflow.sdk.definitions.param import ParamsDict

    merged = ParamsDict(params)
    merged.update(conf)
    return merged.validate()


def _conf(**overrides) -> dict:
    start = datetime.now(UTC) + timedelta(hours=2)
    conf = orchestration.deployment_conf(
        place="Oxford Street", manifest_uri="", planner="", window_start=start, window_end=start + timedelta(hours=2),
        authorising_officer=AUTHORISER.name, intelligence_ref="INT-2026-0042", demo=False)
    conf["staged_folder"] = FOLDER.manifest_uri
    conf.update(overrides)
    return conf


def test_the_form_asks_a_planner_only_what_they_decide():
    params = _params(FormChoices((AUTHORISER.name, "pam.both"), (FOLDER,)))
    assert list(params) == PLANNERS_FIELDS and not set(CONF_ONLY) & set(params), "no demo or test knob"
    assert [params[k].schema["title"] for k in PLANNERS_FIELDS] == LABELS
    assert all(params[k].description for k in PLANNERS_FIELDS), "help text on every field"
    required = {params[k].schema["title"] for k in PLANNERS_FIELDS if "null" not in params[k].schema["type"]}
    assert required == REQUIRED
    assert params["authorising_officer"].schema["enum"] == [AUTHORISER.name, "pam.both"]
    folder = params["staged_folder"].schema
    assert folder["enum"] == [None, FOLDER.manifest_uri] and folder["values_display"][FOLDER.manifest_uri] == FOLDER.name
    for edge in ("window_start", "window_end"):
        assert params[edge].schema["format"] == "date-time" and "Europe/London" in params[edge].description
    assert (params["threshold"].schema["minimum"], params["threshold"].schema["maximum"]) == (0.3, 0.95)
    assert params["allowed_categories"].schema["values_display"]["missing_person"] == "Missing people"
    assert params["policy"].value == "uk-app" and params["policy"].schema["enum"] == ["eu-ai-act", "uk-app"]
    assert params["use_case"].schema["values_display"]["sought_persons"] == (
        "Specific intelligence on the location of sought persons (Met LFR policy §2.9)")
    assert "art5_1_h_iii" in params["use_case"].schema["enum"]


def test_without_the_database_the_form_still_renders_with_free_text_and_says_why():
    params = _params(FormChoices(None, None, ("the database did not answer",)))
    officer, folder = params["authorising_officer"], params["staged_folder"]
    assert "enum" not in officer.schema and "could not be read" in officer.description
    assert "enum" not in folder.schema and "could not be listed" in folder.description
    nobody = _params(FormChoices((), ()))
    assert "lfr person add" in nobody["authorising_officer"].description
    assert "none is staged yet" in nobody["staged_folder"].description


def test_a_worker_reads_no_choices_to_run_a_task(monkeypatch):
    from airflow_plugins.lfr_trigger_form import choices_now

    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "build_watchlist")
    choices = choices_now(Settings())
    assert choices.authorisers is None and choices.folders is None


BAD_CONF = {
    "no place": ({"place": None}, "place"),
    "a blank place": ({"place": "   "}, "place"),
    "no window start": ({"window_start": None}, "window_start"),
    "a window in words": ({"window_end": "tomorrow at nine"}, "window_end"),
    "someone who is no authoriser": ({"authorising_officer": "Supt A. Example"}, "authorising_officer"),
    "a folder not offered": ({"staged_folder": "s3://lfr-sources/staging/elsewhere/manifest.csv"}, "staged_folder"),
    "a threshold above the bounds": ({"threshold": 0.99}, "threshold"),
    "no categories": ({"allowed_categories": []}, "allowed_categories"),
    "an unknown category": ({"allowed_categories": ["gang_member"]}, "allowed_categories"),
    "no use case": ({"use_case": None}, "use_case"),
    "a use case of no pack": ({"use_case": "anything_goes"}, "use_case"),
    "a pack that is not there": ({"policy": "no-such-pack"}, "policy"),
    "a blank location rationale": ({"location_rationale": "  "}, "location_rationale"),
}


@pytest.mark.parametrize("case", list(BAD_CONF))
def test_the_schema_refuses_what_it_can_check_before_a_run_exists(case):
    from airflow.sdk.exceptions import ParamValidationError

    params = _params(FormChoices((AUTHORISER.name,), (FOLDER,)))
    change, field = BAD_CONF[case]
    assert _validated(params, _conf())["place"] == "Oxford Street"
    with pytest.raises(ParamValidationError, match=field):
        _validated(params, _conf(**change))


def test_the_demo_knobs_still_come_through_the_conf():
    params = _params(FormChoices((AUTHORISER.name,), (FOLDER,)))
    conf = _conf(staged_folder=None, manifest_uri="s3://lfr-sources/staging/demo-1/manifest.csv", planner="pc.planner",
                 demo=True, poke_interval_s=2, approve_with="cli", approval_timeout_minutes=0.5)
    validated = _validated(params, conf)
    assert {k: validated[k] for k in CONF_ONLY} == {k: conf[k] for k in CONF_ONLY}


@pytest.fixture(scope="module")
def airflow_up(services, shared_dir):
    """Airflow as `lfr services up --airflow` starts it, on free ports, with one folder staged beforehand."""
    from lfr_core.storage.objectstore import ObjectStore
    from lfr_ops.demo.data import labelled_faces, stage_custody_manifest
    from lfr_ops.local_stack import airflow_service

    faces = sorted(labelled_faces(services).items())[:2]
    subjects = [{"subject_ref": f"FORM-{i:03d}", "category": "wanted_by_court", "rationale": "warrant",
                 "provenance": "custody suite", "capture_date": "2024-03-01", "path": str(images[0].path)}
                for i, (_, images) in enumerate(faces)]
    folder = f"form-{uuid.uuid4().hex[:8]}"
    manifest = stage_custody_manifest(ObjectStore(services), services, subjects, folder)
    ports = {"LFR_AIRFLOW__PORT": str(free_port()), "LFR_AIRFLOW__LOG_SERVER_PORT": str(free_port()),
             "LFR_AIRFLOW__TRIGGERER_LOG_SERVER_PORT": str(free_port())}
    with environment(ports):
        settings = get_settings()
        try:
            assert airflow_service.start(settings) is True
            yield settings, folder, manifest
        finally:
            airflow_service.stop(settings)


def _sign_in(page, base: str, user: str) -> None:
    page.goto(f"{base}/")
    page.wait_for_selector("input[name='username']", timeout=60_000)
    page.fill("input[name='username']", user)
    page.fill("input[name='password']", PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_function("!location.pathname.startsWith('/auth/login')", timeout=60_000)


def _pick(page, form, day: str, time_of_day: str) -> None:
    """The next empty window field, as a planner sets it: the date and the time in the picker, in the time zone
    the UI reads (the browser's)."""
    form.get_by_text("Select date and time").first.click()
    page.get_by_placeholder("YYYY/MM/DD").last.fill(day)  # the picker just opened
    page.get_by_placeholder("HH:mm").last.fill(time_of_day)
    page.keyboard.press("Escape")  # closes the picker, not the form


def _choose(page, form, index: int, option: str) -> list[str]:
    """Open the form's index-th drop-down, choose `option`; what it offered."""
    form.get_by_role("combobox").nth(index).click()
    offered = [o.inner_text() for o in page.get_by_role("option").all()]
    page.get_by_role("option", name=option, exact=True).click()
    return offered


@pytest.mark.slow
@pytest.mark.browser
@needs_chromium
def test_a_planner_sees_their_decisions_in_plain_words_and_the_browser_refuses_a_missing_field(airflow_up):
    from playwright.sync_api import expect, sync_playwright

    settings, folder, _ = airflow_up
    base = f"http://127.0.0.1:{settings.airflow.port}"
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            # A planner's browser in the force's time zone: Airflow's pickers read the time in the browser's zone.
            page = browser.new_page(viewport={"width": 1366, "height": 900}, timezone_id=settings.time_zone)
            _sign_in(page, base, PLANNER.name)
            page.goto(f"{base}/dags/lfr_deployment")
            page.get_by_role("button", name="Trigger").first.click()
            form = page.get_by_role("dialog")
            place = form.locator("[name=element_place]")
            place.wait_for(timeout=60_000)
            submit = page.get_by_test_id("trigger-dag-submit")
            screenshot(page, "airflow-trigger-form")

            labels = {" ".join(label.inner_text().split()) for label in form.locator("label").all() if label.is_visible()}
            assert {f"{label} *" if label in REQUIRED else label for label in LABELS} <= labels, labels
            shown = form.inner_text()
            for knob in ENGINEERING_KNOBS:
                assert knob not in shown, f"{knob!r} is shown to a planner"
            assert f"In {settings.time_zone} time" in shown and "It must be in the future" in shown
            expect(submit).to_be_disabled()  # nothing filled in

            # Everything a planner decides, for a summer window from 10:00 to 12:00 London time (BST).
            _pick(page, form, "2027/07/01", "10:00")
            _pick(page, form, "2027/07/01", "12:00")
            place.fill("Oxford Street, outside Bond Street station")
            form.locator("[name=element_purpose]").fill("Locate people wanted by the courts")
            form.locator("[name=element_legal_basis]").fill("Common law policing powers; force LFR policy v1")
            form.locator("[name=element_intelligence_ref]").fill("INT-2026-0042")
            form.locator("[name=element_location_rationale]").fill("Intelligence places the people sought here")
            # The drop-downs in the form's order: pack (uk-app by default), use case, categories, officer, folder.
            assert "Crime hotspot (Met LFR policy §2.3(a))" in _choose(page, form, 1,
                                                                       "Crime hotspot (Met LFR policy §2.3(a))")
            assert _choose(page, form, 3, AUTHORISER.name) == [AUTHORISER.name, "pam.both"]
            assert "Missing people" in _choose(page, form, 2, "People wanted by the courts")
            form.get_by_text("Watchlist categories").first.click()  # closes the multiple choice
            assert folder in _choose(page, form, 4, folder)
            expect(submit).to_be_enabled()

            # A required field left empty: the browser refuses to trigger, and says which.
            place.fill("")
            expect(submit).to_be_disabled()
            place_row = form.get_by_role("group").filter(has=page.locator("[name=element_place]")).last
            expect(place_row).to_contain_text("This field is required")
            screenshot(page, "airflow-trigger-form-missing-place")
            place.fill("Oxford Street, outside Bond Street station")
            expect(submit).to_be_enabled()

            # The run would get the window in UTC: 10:00 BST is 09:00Z.
            form.get_by_role("button", name="Advanced Options").click()
            conf = " ".join(form.inner_text().replace("\xa0", " ").split())
            assert '"window_start": "2027-07-01T09:00:00.000Z"' in conf, conf[-1500:]
            assert '"window_end": "2027-07-01T11:00:00.000Z"' in conf
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.browser
@needs_chromium
def test_a_run_refused_by_its_first_task_says_why_on_its_page(airflow_up):
    """Through the scheduler, as the demo's run goes (the API's conf, demo knobs and all): the schema's refusal
    comes at once from the API; a window in the past passes the schema, and the run's first task refuses it,
    with the reason in the run's note."""
    from playwright.sync_api import expect, sync_playwright

    settings, _, manifest = airflow_up
    planner = AirflowAs(settings, PLANNER.name, PASSWORD)
    past = datetime.now(UTC) - timedelta(hours=1)
    conf = orchestration.deployment_conf(
        place="Past Lane", manifest_uri=manifest, planner="", window_start=past, window_end=past + timedelta(hours=2),
        authorising_officer=AUTHORISER.name, intelligence_ref=f"INT-{uuid.uuid4().hex[:8]}", poke_interval_s=2,
        approve_with="airflow")
    refused = planner.api.post("/dags/lfr_deployment/dagRuns", json={"logical_date": None,
                                                                      "conf": {**conf, "place": None}})
    assert refused.status_code == 400 and "place" in refused.text, refused.text
    run_id = planner.trigger(conf)
    path = f"/dags/lfr_deployment/dagRuns/{quote(run_id, safe='')}"
    run = wait(lambda: planner.api.get(path).json(), lambda r: r["state"] in ("failed", "success"), 300,
               "the refused run's end")
    assert run["state"] == "failed"
    assert run["note"].startswith("**create_deployment** refused this run: the window ") and \
        "is in the past" in run["note"], run["note"]
    first = planner.api.get(f"{path}/taskInstances/create_deployment").json()
    assert first["state"] == "failed" and first["try_number"] == 1, first

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, timezone_id=settings.time_zone)
            _sign_in(page, f"http://127.0.0.1:{settings.airflow.port}", PLANNER.name)
            page.goto(f"http://127.0.0.1:{settings.airflow.port}/dags/lfr_deployment/runs/{quote(run_id, safe='')}")
            expect(page.get_by_text("is in the past").first).to_be_visible(timeout=60_000)
            screenshot(page, "airflow-refused-run-note")
        finally:
            browser.close()
