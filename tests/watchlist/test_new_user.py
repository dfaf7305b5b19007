"""What a new user met in their first minutes (issue: a fresh machine and a new user get what the README
promises): build keys that leaked across deployments, relative image paths, empty builds, cancellation,
an unguarded threshold, purges that broke pending alerts, and commands that hid what they did."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from lfr_core.alerts import service as alerts
from lfr_core.alerts.service import NewAlert
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, Refused
from lfr_core.evaluation.metrics import threshold_at_fpir
from lfr_core.identity.model import SYSTEM
from lfr_core.reporting import reports
from lfr_core.storage.objectstore import parse_s3_uri
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.build import build_version
from lfr_core.watchlist.threshold import choose_threshold
from lfr_core.workflow import sweeps
from lfr_core.workflow import tasks as orchestration
from lfr_core.workflow.cancel import cancel_deployment
from lfr_core.workflow.purge import purge
from tests.conftest import (
    ADMIN,
    AUTHORISER,
    OPERATOR,
    PLANNER,
    RECORD_ARGS,
    local_manifest,
    make_deployment,
    subject_rows,
    wait_until,
)
from tests.watchlist.test_cli import last_json, lfr


def _create(*extra: str) -> dict:
    start = datetime.now(UTC) + timedelta(hours=1)
    return last_json(lfr(
        "deployment", "create", *RECORD_ARGS, "--place", "Bute Street", "--purpose", "wanted persons", "--legal-basis", "common law",
        "--intelligence-ref", f"INT-{uuid.uuid4().hex[:6]}", "--start", start.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "--end", (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S%z"), "--authorising-officer", "Supt. Evans",
        *extra, "--json", actor="pat.planner"))


def test_a_build_key_belongs_to_one_deployment_and_a_retry_prints_the_first_build(services, identities, stage):
    manifest = stage(subject_rows(identities, 2))
    first, other = _create(), _create()
    built = last_json(lfr("watchlist", "build", "--deployment", first["id"], "--manifest", manifest,
                          "--build-key", "run-1", "--json", actor="pat.planner"))
    # the same list staged again for the other deployment (a staging folder belongs to one deployment)
    elsewhere = last_json(lfr("watchlist", "build", "--deployment", other["id"], "--manifest",
                              stage(subject_rows(identities, 2)), "--build-key", "run-1", "--json", actor="pat.planner"))
    assert elsewhere["deployment_id"] == other["id"] and elsewhere["id"] != built["id"]

    printed = [lfr("watchlist", "build", "--deployment", first["id"], "--manifest", manifest, "--build-key", "run-1",
                   actor="pat.planner") for _ in range(2)]
    assert [p.returncode for p in printed] == [0, 0], printed[0].stderr
    assert printed[0].stdout == printed[1].stdout
    assert f"({built['id']})" in printed[0].stdout and "SUBJ-" in printed[0].stdout
    retried = last_json(lfr("watchlist", "build", "--deployment", first["id"], "--manifest", manifest,
                            "--build-key", "run-1", "--json", actor="pat.planner"))
    assert retried["id"] == built["id"] and retried["entries"] == built["entries"]


def test_image_paths_resolve_against_the_manifest_not_the_working_directory(services, identities, tmp_path,
                                                                              monkeypatch):
    manifest = local_manifest(tmp_path / "lists", subject_rows(identities, 2))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # as a DAG worker or another shell would
    created = _create()
    built = last_json(lfr("watchlist", "build", "--deployment", created["id"], "--manifest", str(manifest), "--json",
                          actor="pat.planner"))
    assert built["entries_accepted"] == 2, built["entries"]
    assert all(e["source_uri"].startswith(str(tmp_path / "lists" / "faces" / e["subject_ref"]))
               for e in built["entries"])
    assert built["manifest_uri"] == str(manifest)


def test_a_dag_run_refuses_a_relative_manifest_path(services):
    start = datetime.now(UTC) + timedelta(hours=1)
    conf = orchestration.deployment_conf(place="x", manifest_uri="lists/manifest.csv", planner="pat.planner",
                                         window_start=start, window_end=start + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="relative path"):
        orchestration.create_deployment_from_params(services, conf, planner=conf["planner"])


def test_a_build_that_accepts_nothing_fails_with_reasons_and_cancels(db, services, tmp_path):
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (300, 300), (120, 120, 120)).save(blank)
    manifest = local_manifest(tmp_path, [{"subject_ref": "NOFACE-1", "category": "wanted_suspect", "rationale": "r",
                                          "provenance": "p", "capture_date": "", "path": str(blank)}])
    deployment = make_deployment(db, services)
    with pytest.raises(InvalidInput, match=r"nothing to approve(.|\n)*1 x no face found") as refused:
        orchestration.build_watchlist(services, str(deployment["id"]), str(manifest), PLANNER.name, "run-empty")
    assert "NOFACE-1" not in str(refused.value), "a task's log counts reasons and names no subject"
    db.rollback()
    assert deployments.get(db, deployment["id"])["status"] == "cancelled"
    assert [v["state"] for v in lifecycle.list_versions(db, deployment["id"])] == ["purged"]
    db.rollback()
    fresh = make_deployment(db, services)
    cli = lfr("watchlist", "build", "--deployment", str(fresh["id"]), "--manifest", str(manifest), actor="pat.planner")
    assert cli.returncode == 3 and "no entry was accepted" in cli.stderr and "no face found" in cli.stdout


def test_cancel_purges_every_version_is_audited_and_refuses_new_builds(db, services, store, identities, stage):
    created = _create()
    built = last_json(lfr("watchlist", "build", "--deployment", created["id"], "--manifest",
                          stage(subject_rows(identities, 2)), "--json", actor="pat.planner"))
    no_reason = lfr("deployment", "cancel", created["id"], actor="pat.planner")
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    done = last_json(lfr("deployment", "cancel", created["id"], "--reason", "intelligence withdrawn", "--json",
                         actor="pat.planner"))
    # A planner's own credentials cannot purge (that is an admin's or the platform's): the expiry sweep does.
    assert done["status"] == "cancelled" and done["taken_down"] is False and done["purged"] == []
    swept = sweeps.sweep_watchlists(db, store, services)
    assert built["id"] in [str(v) for v in swept["purged"]], swept
    version = lifecycle.get_version(db, built["id"])
    assert version["state"] == "purged"
    assert version["purge_receipt"]["reason"].startswith("deployment cancelled: intelligence withdrawn")
    assert not store.list_keys(services.s3.bucket_images, f"{built['id']}/")
    actions = db.execute("SELECT action, actor, details FROM audit_log WHERE object_id = %s ORDER BY seq",
                         (created["id"],)).fetchall()
    assert ("deployment.cancelled", "pat.planner") in [(a["action"], a["actor"]) for a in actions]
    again = lfr("watchlist", "build", "--deployment", created["id"], "--manifest", stage(subject_rows(identities, 1)),
                actor="pat.planner")
    assert again.returncode == 3 and "cancelled" in again.stderr
    with pytest.raises(orchestration.DeploymentCancelled, match="intelligence withdrawn"):
        orchestration.seconds_to_window(services, created["id"], "start")
    with pytest.raises(orchestration.DeploymentCancelled):
        orchestration.wait_for_approval_state(services, built["id"])


def test_threshold_is_bounded(services):
    for bad in ("-0.5", "0.1", "1.5"):
        result = lfr("deployment", "create", *RECORD_ARGS, "--place", "x", "--purpose", "x", "--legal-basis", "x",
                     "--intelligence-ref", "x", "--start", "2099-01-01T10:00:00+0000", "--end",
                     "2099-01-01T12:00:00+0000", "--authorising-officer", "x", "--threshold", bad, actor="pat.planner")
        assert result.returncode == 2 and "threshold" in result.stderr, (bad, result.stderr)


def _calibrate(conn, sha: str, scores: list[float], n_gallery: int) -> None:
    conn.execute("""INSERT INTO model_calibrations (embedder_sha256, detector_sha256, model, manifest, n_gallery,
                                                   nonmated_top_scores, summary, recorded_by)
                    VALUES (%s, 'd', '{}', 'test manifest', %s, %s, '{}', 'test')""", (sha, n_gallery, scores))
    conn.commit()


def test_default_threshold_comes_from_the_list_models_calibration(db, services):
    sha = uuid.uuid4().hex
    embedder = {"name": "sface", "weights_sha256": sha}
    unset = {"threshold": None}
    value, source = choose_threshold(db, unset, embedder, 10, services)
    assert value == services.match.threshold and "fallback" in source

    scores = list(np.linspace(0.05, 0.5, 200))  # non-mated top scores of an evaluation on 50 enrolled
    _calibrate(db, sha, scores, n_gallery=50)
    target = services.match.target_fpir
    value, source = choose_threshold(db, unset, embedder, 10, services)
    assert value == pytest.approx(threshold_at_fpir(np.array(scores), target)[0])
    assert value > services.match.threshold and "calibrated for FPIR" in source
    larger, _ = choose_threshold(db, unset, embedder, 500, services)  # 10x the gallery: 10x stricter per search
    assert larger == pytest.approx(threshold_at_fpir(np.array(scores), target * 50 / 500)[0]) and larger > value
    assert choose_threshold(db, {"threshold": 0.42}, embedder, 10, services) == (0.42, "set by the deployment")


def test_a_list_records_its_calibrated_threshold_and_where_it_came_from(db, services, store, face_engine,
                                                                       identities, stage):
    sha = face_engine.identity["embedder"]["weights_sha256"]
    deployment = deployments.create(db, deployments.validate_spec({
        "place": "p", "purpose": "p", "legal_basis": "l", "intelligence_ref": "i",
        "window_start": datetime.now(UTC) + timedelta(hours=1), "window_end": datetime.now(UTC) + timedelta(hours=2),
        "authorising_officer": "a", "use_case": "crime_hotspot", "location_rationale": "r"}, services), PLANNER,
        services)
    assert deployment["threshold"] is None
    _calibrate(db, sha, [0.2] * 95 + [0.45, 0.5, 0.55, 0.6, 0.65], n_gallery=67)
    try:
        version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                                manifest_uri=stage(subject_rows(identities, 2)), actor=PLANNER)
    finally:
        db.execute("DELETE FROM model_calibrations WHERE embedder_sha256 = %s AND manifest = 'test manifest'", (sha,))
        db.commit()
    assert version["threshold"] == pytest.approx(float(np.nextafter(np.float32(0.6), np.inf)), abs=1e-6)
    assert "calibrated for FPIR 0.01" in version["threshold_source"]


def _live_list(db, services, store, face_engine, identities, stage, subjects: int):
    deployment = make_deployment(db, services, starts_in_s=1.5, length_s=600)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(subject_rows(identities, subjects)), actor=PLANNER)
    lifecycle.approve(db, version["id"], AUTHORISER)
    wait_until(deployment["window_start"])
    lifecycle.activate(db, version["id"], OPERATOR)
    return deployment, version


def _live_list_with_pending_alert(db, services, store, face_engine, identities, stage):
    deployment, version = _live_list(db, services, store, face_engine, identities, stage, 2)
    entry = next(e for e in version["entries"] if e["status"] == "accepted")
    alert = alerts.raise_alert(db, store, services.s3.bucket_alerts, NewAlert(
        deployment["id"], version["id"], entry["subject_ref"], entry["category"], 0.71, "cam-1", "t1",
        datetime.now(UTC), entry["image_uri"]), b"\xff\xd8probe\xff\xd9", SYSTEM)
    lifecycle.expire(db, version["id"], OPERATOR, reason="test: operator ended the deployment early")
    return deployment, version, entry, alert


def test_purge_keeps_what_a_pending_alert_needs_until_it_is_decided(db, services, store, face_engine, identities,
                                                                    stage):
    deployment, version, entry, alert = _live_list_with_pending_alert(db, services, store, face_engine, identities,
                                                                      stage)
    bucket, kept_key = parse_s3_uri(entry["image_uri"])
    with pytest.raises(InvalidInput, match="reason"):
        purge(db, store, services, version["id"], ADMIN, reason=" ")
    receipt = purge(db, store, services, version["id"], ADMIN, reason="manual purge mid-window: list withdrawn")
    assert receipt["reason"] == "manual purge mid-window: list withdrawn"
    assert receipt["kept_for_adjudication"]["alert_ids"] == [str(alert["id"])]
    assert receipt["deleted"]["image_objects"] == 1 and receipt["verified"]["objects_remaining"] == 0
    assert [k for k, _ in store.list_keys(bucket, f"{version['id']}/")] == [kept_key]
    assert store.get_bytes(bucket, kept_key)  # the officer can still compare the two faces

    published = reports.publish_report(db, store, services, str(deployment["id"]))
    db.commit()
    assert published["report"]["provisional"] and "Provisional: 1 alert" in published["markdown"]

    decided = alerts.adjudicate(db, store, alert["id"], "confirmed", OPERATOR, "stopped and spoken to")
    assert decided["status"] == "confirmed" and decided["watchlist_image_uri"] is None
    assert store.list_keys(bucket, f"{version['id']}/") == []
    released = db.execute("SELECT details FROM audit_log WHERE action = 'watchlist.image_released' AND object_id = %s",
                          (str(version["id"]),)).fetchone()
    assert released["details"]["alert_id"] == str(alert["id"])
    db.commit()

    swept = sweeps.sweep_watchlists(db, store, services)
    assert str(deployment["id"]) in swept["reports_republished"]
    republished = store.get_bytes(services.s3.bucket_reports, reports.report_keys(str(deployment["id"]))[1]).decode()
    assert "Provisional" not in republished
    with pytest.raises(Refused, match="already adjudicated"):
        alerts.adjudicate(db, store, alert["id"], "declined", OPERATOR)


def test_retention_releases_a_kept_watchlist_image(db, services, store, face_engine, identities, stage):
    _, version, entry, _alert = _live_list_with_pending_alert(db, services, store, face_engine, identities, stage)
    purge(db, store, services, version["id"], ADMIN, reason="window ended")
    later = datetime.now(UTC) + timedelta(days=services.alerts.retention_days + 1)
    alerts.delete_expired(db, store, services.alerts.retention_days, SYSTEM, now=later)
    assert store.list_keys(parse_s3_uri(entry["image_uri"])[0], f"{version['id']}/") == []


def test_cli_purge_needs_a_reason_and_warns_about_pending_alerts(db, services, store, face_engine, identities, stage):
    _, version, _, alert = _live_list_with_pending_alert(db, services, store, face_engine, identities, stage)
    missing = lfr("watchlist", "purge", str(version["id"]), actor="ada.admin")
    assert missing.returncode == 2 and "--reason" in missing.stderr
    done = lfr("watchlist", "purge", str(version["id"]), "--reason", "list withdrawn", actor="ada.admin")
    assert done.returncode == 0, done.stderr
    assert "await adjudication" in done.stderr and str(alert["id"]) in done.stderr
    assert "reason: list withdrawn" in done.stdout


def test_cancel_of_a_live_deployment_takes_its_list_down(db, services, store, face_engine, identities, stage):
    deployment, version = _live_list(db, services, store, face_engine, identities, stage, 1)
    with pytest.raises(Refused):
        cancel_deployment(db, store, services, str(deployment["id"]), OPERATOR, "not mine to cancel")
    cancel_deployment(db, store, services, str(deployment["id"]), ADMIN, "disorder at the location")
    assert deployments.get(db, deployment["id"])["status"] == "cancelled"
    assert lifecycle.get_version(db, version["id"])["state"] == "purged"
    assert lifecycle.deployment_active_version(db, deployment["id"]) is None


def test_show_diff_and_keys_read_as_tables_without_json(services, identities, stage, tmp_path):
    from PIL import Image

    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 300), (120, 120, 120)).save(blank)
    created = _create("--threshold", "0.41")
    rows = subject_rows(identities, 2)
    first = last_json(lfr("watchlist", "build", "--deployment", created["id"], "--manifest", stage(rows), "--json",
                          actor="pat.planner"))
    second = last_json(lfr("watchlist", "build", "--deployment", created["id"], "--manifest", stage([
        *rows[:1], {"subject_ref": "NOFACE-2", "category": "wanted_suspect", "rationale": "r", "provenance": "p",
                    "capture_date": "", "path": str(blank)}]), "--json", actor="pat.planner"))

    shown = lfr("watchlist", "show", second["id"], actor="aud.auditor")
    assert shown.returncode == 0 and not shown.stdout.lstrip().startswith("{")
    assert "NOFACE-2" in shown.stdout and "no face found" in shown.stdout and rows[0]["subject_ref"] in shown.stdout
    assert "threshold 0.4100 (set by the deployment)" in shown.stdout

    diffed = lfr("watchlist", "diff", first["id"], second["id"], actor="aud.auditor")
    assert diffed.returncode == 0 and not diffed.stdout.lstrip().startswith("{")
    assert "NOFACE-2" in diffed.stdout and "added" in diffed.stdout and rows[1]["subject_ref"] in diffed.stdout

    deployment = lfr("deployment", "show", created["id"], actor="aud.auditor")
    assert deployment.returncode == 0 and "Bute Street" in deployment.stdout and "Supt. Evans" in deployment.stdout
    assert not deployment.stdout.lstrip().startswith("{")

    key = last_json(lfr("apikey", "create", "--name", "cam-7", "--deployment", created["id"], "--json",
                        actor="ada.admin"))["api_key"]
    listed = lfr("apikey", "list", actor="ada.admin")
    assert listed.returncode == 0 and "cam-7" in listed.stdout and key not in listed.stdout
    key_id = next(r["key_id"] for r in last_json(lfr("apikey", "list", "--json", actor="ada.admin"))
                  if r["name"] == "cam-7")
    revoked = lfr("apikey", "revoke", key_id, actor="ada.admin")
    assert revoked.returncode == 0 and "revoked the camera key of cam-7" in revoked.stdout
    assert "cam-7" not in lfr("apikey", "list", actor="ada.admin").stdout
