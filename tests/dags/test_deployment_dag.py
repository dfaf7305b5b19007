"""lfr_deployment end to end through dag.test(): real PostgreSQL, S3 and face images, a window a few
seconds ahead, and an authoriser (a different person) approving from another thread."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.db.connection import connect
from lfr_core.errors import InvalidInput
from lfr_core.identity.model import Actor
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import lifecycle
from lfr_core.workflow import tasks as orchestration
from lfr_ops.demo.data import labelled_faces, stage_custody_manifest

PLANNER = "pat.planner"  # a person of the platform (tests/conftest.py)
AUTHORISER = Actor("ann.authoriser", "authoriser")


@pytest.fixture(scope="module")
def deployment_dag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    from lfr_core.config import PROJECT_ROOT

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert not bag.import_errors
    return bag.dags["lfr_deployment"]


def _subjects(settings, n=5, category="wanted_by_court"):
    faces = labelled_faces(settings)
    chosen = [images[0] for _, images in sorted(faces.items())[:n]]
    return [{"subject_ref": f"CUST-{i:03d}", "category": category, "rationale": "warrant issued by the court",
             "provenance": "custody suite", "capture_date": "2024-03-01", "path": str(img.path)}
            for i, img in enumerate(chosen)]


def _conf(settings, manifest_uri, *, start_in_s=40.0, length_s=6.0, ref=None, **overrides):
    start = datetime.now(UTC) + timedelta(seconds=start_in_s)
    conf = orchestration.deployment_conf(
        place="Test Street", manifest_uri=manifest_uri, planner=PLANNER, window_start=start,
        window_end=start + timedelta(seconds=length_s), threshold=settings.match.threshold,
        intelligence_ref=ref or f"INT-{uuid.uuid4().hex[:8]}", poke_interval_s=1,
        authorising_officer=AUTHORISER.name)  # the form offers the platform's authorisers only
    conf.update(overrides)
    return conf


def test_deployment_runs_from_approval_to_purge_and_report(deployment_dag, services, shared_dir):
    store = ObjectStore(services)
    manifest = stage_custody_manifest(store, services, _subjects(services), f"dagtest-{uuid.uuid4().hex[:6]}")
    conf = _conf(services, manifest)
    approved = []
    approver = threading.Thread(target=lambda: approved.append(
        orchestration.approve_when_built(services, conf["intelligence_ref"], AUTHORISER, timeout_s=120)), daemon=True)
    approver.start()
    run = deployment_dag.test(run_conf=conf)
    approver.join(timeout=5)

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert approved and approved[0]["approved_by"] == AUTHORISER.name
    with connect(services) as conn:
        deployment = conn.execute("SELECT * FROM deployments WHERE intelligence_ref = %s",
                                  (conf["intelligence_ref"],)).fetchone()
        versions = lifecycle.list_versions(conn, deployment["id"])
        assert len(versions) == 1, "the run id build key yields exactly one version"
        version = versions[0]
        actions = [r["action"] for r in conn.execute(
            "SELECT action FROM audit_log WHERE object_id = %s ORDER BY seq", (str(version["id"]),)).fetchall()]
    assert version["built_by"] == PLANNER and version["approved_by"] == AUTHORISER.name
    assert version["criteria_sha256"] and version["activated_at"] and version["expired_at"]
    assert version["state"] == "purged" and version["purge_receipt"]["verified"]["embeddings_remaining"] == 0
    assert actions == ["watchlist.build", "watchlist.approved", "watchlist.active", "watchlist.expired",
                       "watchlist.purging", "watchlist.purged"]
    assert version["entries_accepted"] >= 3
    assert deployment["status"] == "closed"
    report = store.get_bytes(services.s3.bucket_reports, f"reports/{deployment['id']}/report.json")
    assert b'"watchlist"' in report
    markdown = store.get_bytes(services.s3.bucket_reports, f"reports/{deployment['id']}/report.md").decode()
    assert "Transparency report: Test Street" in markdown
    receipt_key = version["purge_receipt"]["receipt_uri"].split("/", 3)[3]
    assert store.get_bytes(services.s3.bucket_reports, receipt_key)


def _deployment_count(settings) -> int:
    with connect(settings) as conn:
        return conn.execute("SELECT count(*) AS n FROM deployments").fetchone()["n"]


@pytest.fixture(scope="module")
def good_manifest(services, shared_dir):
    return stage_custody_manifest(ObjectStore(services), services, _subjects(services, n=2), "dagtest-good")


@pytest.fixture(scope="module")
def unknown_category_manifest(services, shared_dir):
    return stage_custody_manifest(ObjectStore(services), services, _subjects(services, n=2, category="gang_member"),
                                  "dagtest-unknown-category")


BAD = {
    "relative manifest": lambda c: {"manifest_uri": "lists/manifest.csv"},
    "end before start": lambda c: {"window_end": (datetime.fromisoformat(c["window_start"]) - timedelta(seconds=5)).isoformat()},
    "window in the past": lambda c: {"window_start": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
    "unknown category": lambda c: {"manifest_uri": "UNKNOWN"},
    "missing manifest": lambda c: {"manifest_uri": "s3://lfr-sources/staging/does-not-exist/manifest.csv"},
    "use case of another pack": lambda c: {"use_case": "art5_1_h_i"},
    "category outside the use case": lambda c: {"use_case": "crime_hotspot", "allowed_categories": ["missing_person"]},
    "no location rationale": lambda c: {"location_rationale": " "},
}
MESSAGES = {"relative manifest": "is a relative path", "end before start": "window_end must be after window_start",
            "window in the past": "is in the past",
            "use case of another pack": "use case 'art5_1_h_i' is not in policy pack uk-app v2",
            "category outside the use case": "permits the categories wanted_by_court, wanted_suspect, "
                                             "risk_to_self_or_others; not missing_person",
            "no location rationale": "location_rationale: Value error, must not be blank",
            "unknown category": "unknown category 'gang_member'", "missing manifest": "is unreachable"}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_request_is_refused_with_a_clear_message_and_creates_nothing(case, services, good_manifest,
                                                                        unknown_category_manifest):
    conf = _conf(services, good_manifest)
    conf.update(BAD[case](conf))
    if conf["manifest_uri"] == "UNKNOWN":
        conf["manifest_uri"] = unknown_category_manifest
    before = _deployment_count(services)
    with pytest.raises(InvalidInput, match=MESSAGES[case]):
        orchestration.create_deployment_from_params(services, conf, planner=conf["planner"])
    assert _deployment_count(services) == before


def test_bad_request_fails_the_run_at_its_first_task(deployment_dag, services, unknown_category_manifest):
    conf = _conf(services, unknown_category_manifest)
    before = _deployment_count(services)
    run = deployment_dag.test(run_conf=conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert states["create_deployment"] == "failed"
    assert states["build_watchlist"] == "upstream_failed"
    assert _deployment_count(services) == before


def _note(run) -> str | None:
    """The run's note, as the run's page shows it."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return session.scalar(select(DagRun).where(DagRun.dag_id == run.dag_id, DagRun.run_id == run.run_id)).note


def _hours_from_start(c, hours: float) -> dict[str, str]:
    return {"window_end": (datetime.fromisoformat(c["window_start"]) + timedelta(hours=hours)).isoformat()}


# Issue 31 item 6: what the form's schema cannot check is refused by the run's first task, with the reason on the
# run's page, before anything is created or built.
REFUSED = {
    "window in the past": (lambda c: {"window_start": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
                           "is in the past"),
    "end before start": (lambda c: _hours_from_start(c, -0.5), "window_end must be after window_start"),
    "a 30-hour window": (lambda c: _hours_from_start(c, 30), "exceeds the maximum of 1 day"),
    "missing manifest": (lambda c: {"manifest_uri": "s3://lfr-sources/staging/does-not-exist/manifest.csv"},
                         "is unreachable"),
    "no staged folder": (lambda c: {"manifest_uri": ""}, "no custody images were chosen"),
    "planner not a planner": (lambda c: {"planner": "olly.operator"},
                              "olly.operator (operator) may not plan a deployment"),
    "conf option out of bounds": (lambda c: {"poke_interval_s": 0}, "poke_interval_s"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_first_task_refuses_what_the_form_cannot_check_with_the_reason_on_the_runs_page(
        case, deployment_dag, services, good_manifest):
    change, reason = REFUSED[case]
    conf = _conf(services, good_manifest)
    conf.update(change(conf))
    before = _deployment_count(services)
    run = deployment_dag.test(run_conf=conf)
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert tis["create_deployment"].state == "failed" and tis["create_deployment"].try_number == 1, "no retry"
    assert tis["build_watchlist"].state == "upstream_failed"
    note = _note(run)
    assert note and note.startswith("**create_deployment** refused this run: ") and reason in note, note
    assert _deployment_count(services) == before, "nothing was created"


def _local_manifest(folder, subjects):
    from tests.conftest import local_manifest

    return str(local_manifest(folder, subjects))


def test_cancel_ends_the_run_cleanly_and_nothing_built_survives(deployment_dag, services, tmp_path, monkeypatch):
    """A manifest with image paths relative to itself builds from a DAG worker's working directory; a
    cancellation while the run waits for approval skips the rest and purges the draft."""
    manifest = _local_manifest(tmp_path / "lists", _subjects(services, n=2))
    monkeypatch.chdir(tmp_path)  # not the manifest's folder
    conf = _conf(services, manifest, start_in_s=300)
    cancelled = []

    def cancel_when_built():
        from lfr_core.workflow.cancel import cancel_deployment

        with connect(services) as conn:
            for _ in range(240):
                row = conn.execute("""SELECT d.id FROM deployments d JOIN watchlist_versions v ON v.deployment_id = d.id
                                      WHERE d.intelligence_ref = %s""", (conf["intelligence_ref"],)).fetchone()
                conn.rollback()
                if row:
                    cancelled.append(cancel_deployment(conn, ObjectStore(services), services, str(row["id"]),
                                                       Actor("pat.planner", "planner"), "operation stood down"))
                    return
                time.sleep(0.5)

    canceller = threading.Thread(target=cancel_when_built, daemon=True)
    canceller.start()
    run = deployment_dag.test(run_conf=conf)
    canceller.join(timeout=5)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    assert states["build_watchlist"] == "success" and states["wait_for_approval"] == "skipped"
    assert {states[t] for t in ("activate", "expire", "purge", "publish_report")} == {"skipped"}
    with connect(services) as conn:
        deployment = conn.execute("SELECT * FROM deployments WHERE intelligence_ref = %s",
                                  (conf["intelligence_ref"],)).fetchone()
        versions = lifecycle.list_versions(conn, deployment["id"])
    assert deployment["status"] == "cancelled" and deployment["cancel_reason"] == "operation stood down"
    assert [(v["state"], v["entries_accepted"]) for v in versions] == [("purged", 2)]
    assert "operation stood down" in versions[0]["purge_receipt"]["reason"]


def test_a_build_that_accepts_nothing_fails_the_run_with_the_reasons(deployment_dag, services, tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (320, 320), (90, 90, 90)).save(blank)
    manifest = _local_manifest(tmp_path, [{"subject_ref": "CUST-EMPTY", "category": "wanted_by_court",
                                           "rationale": "warrant", "provenance": "custody suite",
                                           "capture_date": "", "path": str(blank)}])
    conf = _conf(services, manifest, start_in_s=300)
    run = deployment_dag.test(run_conf=conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed"
    assert states["build_watchlist"] == "failed" and states["wait_for_approval"] == "upstream_failed"
    with connect(services) as conn:
        deployment = conn.execute("SELECT * FROM deployments WHERE intelligence_ref = %s",
                                  (conf["intelligence_ref"],)).fetchone()
    assert deployment["status"] == "cancelled" and "no manifest entry was accepted" in deployment["cancel_reason"]


def test_a_run_whose_window_end_wait_dies_still_ends_expired_purged_and_reported_once(deployment_dag, services,
                                                                                      good_manifest, monkeypatch):
    """Issue 31 item 1. The waits defer to the triggerer (here every wait, however short: the approval wait's
    trigger reads the database, the window start's fires at the edge and ends the task itself); then the run's
    `wait_for_window_end` fails mid-window, as it did under load. The list stays live inside the window, and
    the reconciling sweep expires, purges and reports it after the window, each once."""
    import sys

    from airflow.sdk.exceptions import AirflowFailException

    waiting = deployment_dag.get_task("wait_for_window_end")
    monkeypatch.setattr(sys.modules[type(waiting).__module__], "WAIT_IN_WORKER_S", 0.0)
    real_edge = orchestration.window_edge

    def dies_at_the_end(settings, deployment_id, edge):
        if edge == "end":
            raise AirflowFailException("killed while waiting for the window's end")
        return real_edge(settings, deployment_id, edge)

    monkeypatch.setattr(orchestration, "window_edge", dies_at_the_end)
    conf = _conf(services, good_manifest, start_in_s=45, length_s=15)
    approver = threading.Thread(target=lambda: orchestration.approve_when_built(
        services, conf["intelligence_ref"], AUTHORISER, timeout_s=120), daemon=True)
    approver.start()
    run = deployment_dag.test(run_conf=conf)
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["wait_for_approval"] == "success" and states["wait_for_window_start"] == "success", states
    assert states["activate"] == "success" and states["wait_for_window_end"] == "failed", states
    assert {states[t] for t in ("expire", "purge", "publish_report")} == {"upstream_failed"}

    with connect(services) as conn:
        deployment = conn.execute("SELECT * FROM deployments WHERE intelligence_ref = %s",
                                  (conf["intelligence_ref"],)).fetchone()
        (version,) = lifecycle.list_versions(conn, deployment["id"])
    assert datetime.now(UTC) < deployment["window_end"], "the run died inside the window"
    orchestration.reconcile_deployments(services)
    with connect(services) as conn:
        assert lifecycle.get_version(conn, version["id"])["state"] == "active", "still live inside its window"
    time.sleep(max(0.0, (deployment["window_end"] - datetime.now(UTC)).total_seconds()) + 0.5)
    orchestration.reconcile_deployments(services)
    orchestration.reconcile_deployments(services)
    with connect(services) as conn:
        counts = {r["action"]: r["n"] for r in conn.execute(
            "SELECT action, count(*) AS n FROM audit_log WHERE object_id = ANY(%s) GROUP BY action",
            ([str(deployment["id"]), str(version["id"])],)).fetchall()}
        status = conn.execute("SELECT status FROM deployments WHERE id = %s",
                              (deployment["id"],)).fetchone()["status"]
    assert status == "closed"
    assert {a: counts.get(a, 0) for a in ("watchlist.active", "watchlist.expired", "watchlist.purged",
                                          "report.publish")} == dict.fromkeys(
        ("watchlist.active", "watchlist.expired", "watchlist.purged", "report.publish"), 1)
