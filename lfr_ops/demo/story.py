"""The main job on the embedded default, end to end, as the people involved would do it.

A planner triggers the `lfr_deployment` DAG in Airflow (`lfr services up --airflow`) for a window a minute or so
ahead; it builds the watchlist from custody images; an authoriser approves the draft under Required
Actions; at window start the DAG activates it; a camera feed streams through Ray Serve and alerts are
raised; an operator decides them through the console's API and records the outcome; at window end the
DAG expires and purges the list and publishes the transparency report and the public record. Every step
reads and writes the real services, through the calls the interfaces make (lfr_ops/demo/ui.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2

from lfr_core.audit import log as audit
from lfr_core.config import Settings
from lfr_core.db.connection import connect
from lfr_core.deployments import camera_keys as apikeys
from lfr_core.deployments import service as deployments
from lfr_core.identity import people
from lfr_core.identity.model import Actor
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist import queries as watchlist_queries
from lfr_core.workflow import tasks as orchestration
from lfr_ops.demo.data import DemoData, labelled_faces, packaged_images, stage_custody_manifest

PLANNER = Actor("pc.planner", "planner")
AUTHORISER = Actor("supt.authoriser", "authoriser")
OPERATOR = Actor("pc.operator", "operator")
ADMIN = Actor("demo.admin", "admin")
DEMO_PEOPLE = (PLANNER, AUTHORISER, OPERATOR, ADMIN)


def people_file(settings: Settings) -> Path:
    return settings.home / "demo-people.json"


def ensure_people(settings: Settings) -> Path:
    """The demo's four people, added once by the embedded server's administrator, with generated passwords
    kept (0600) under LFR_HOME so that whoever runs the demo can sign in as them (`lfr login`, the console)."""
    import json
    import os

    import psycopg
    from psycopg.rows import dict_row

    from lfr_core.db.connection import admin_dsn

    path = people_file(settings)
    known = json.loads(path.read_text()) if path.exists() else {}
    with psycopg.connect(admin_dsn(settings), row_factory=dict_row, autocommit=True) as conn:
        existing = {p["name"] for p in people.list_people(conn)}
        for actor in DEMO_PEOPLE:
            if actor.name not in existing:
                known[actor.name] = people.new_password()
                people.add(conn, actor.name, [actor.role], known[actor.name])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(known, f, indent=1)
    return path


@dataclass
class DemoPlan:
    subjects: list[dict[str, str]]
    feed_source: str
    expected_subject: str | None
    notes: list[str] = field(default_factory=list)


def plan_from_shared(settings: Settings) -> DemoPlan:
    """Lin-Manuel Miranda (who appears in the clip) and a few other identities; the clip is the camera."""
    faces = labelled_faces(settings, ("ageitgey", "deepface"))
    chosen = ["ageitgey_lin-manuel-miranda", *[n for n in faces if n.startswith("deepface_")][:5]]
    lin = settings.shared_dir / "data" / "faces" / "ageitgey" / "lin-manuel-miranda.png"
    subjects = []
    for i, name in enumerate(chosen):
        path = lin if name == chosen[0] else faces[name][0].path
        subjects.append({"subject_ref": f"DEMO-{i + 1:03d}", "category": "wanted_by_court",
                         "rationale": "arrest warrant (demo)", "provenance": f"CUSTODY-DEMO-{i + 1:04d}",
                         "capture_date": "2025-01-15", "legal_basis": "PACE 1984 s.64A (custody image, demo)",
                         "age_band": "18_plus", "path": str(path)})
    return DemoPlan(subjects, str(settings.shared_dir / "data" / "video" / "short_hamilton_clip.mp4"), "DEMO-001")


def plan_from_images(images: list[Path], workdir: Path, settings: Settings) -> DemoPlan:
    """Without the shared data: each face found in the images becomes a 'custody photo', and the images
    themselves are the camera frames (so every listed face should raise an alert)."""
    from lfr_core.vision.engine import build_engine
    from lfr_core.vision.images import load_image

    engine = build_engine(settings)
    workdir.mkdir(parents=True, exist_ok=True)
    subjects = []
    for path in images:
        image = load_image(path, max_pixels=settings.vision.max_image_pixels, max_bytes=settings.vision.max_image_bytes)
        for face in engine.analyse_batch([image], purpose="enrol")[0]:
            if face.embedding is None:
                continue
            x1, y1, x2, y2 = face.detection.box.astype(int)
            pad = int(0.6 * max(x2 - x1, y2 - y1))
            crop = image[max(0, y1 - pad):y2 + pad, max(0, x1 - pad):x2 + pad]
            out = workdir / f"subject-{len(subjects) + 1:03d}.jpg"
            cv2.imwrite(str(out), crop)
            subjects.append({"subject_ref": f"DEMO-{len(subjects) + 1:03d}", "category": "wanted_suspect",
                             "rationale": "suspect (demo)", "provenance": f"{path.name}",
                             "capture_date": "", "path": str(out)})
    frames = workdir / "frames"
    frames.mkdir(exist_ok=True)
    for path in images:
        (frames / path.name).write_bytes(path.read_bytes())
    return DemoPlan(subjects, str(frames), None, [f"{len(subjects)} faces cut from {len(images)} images"])


def make_plan(settings: Settings, data: DemoData) -> DemoPlan:
    if data.source == "shared":
        return plan_from_shared(settings)
    images = packaged_images() if data.source == "packaged" else sorted(
        p for p in data.root.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    return plan_from_images(images, settings.home / "demo", settings)


def deployment_state(settings: Settings, intelligence_ref: str) -> dict[str, Any] | None:
    with connect(settings) as conn:
        return watchlist_queries.latest_version_by_reference(conn, intelligence_ref)


def why_stopped(state: dict[str, Any] | None) -> str | None:
    """Why the demo's deployment can no longer go ahead (it lapsed, or was cancelled), or None."""
    if state and state["status"] in ("lapsed", "cancelled"):
        return f"deployment {state['id']} {state['status']}: {state['ended_because']}"
    return None


def password_of(settings: Settings, name: str) -> str:
    import json

    return json.loads(people_file(settings).read_text())[name]


def ensure_airflow(settings: Settings) -> None:
    """Airflow running; the demo's people sign in to it as they are in the database (nothing to restart for
    people added since it started)."""
    from lfr_ops.local_stack import airflow_service

    airflow_service.start(settings)


def stage(settings: Settings, plan: DemoPlan, window_lead_s: float, window_s: float) -> tuple[dict[str, Any], str]:
    store = ObjectStore(settings)
    manifest = stage_custody_manifest(store, settings, plan.subjects, f"demo-{int(time.time())}")
    now = datetime.now(UTC)
    reference = f"INT-DEMO-{now:%Y%m%d%H%M%S}"
    conf = orchestration.deployment_conf(
        place="Demo Square (embedded demo)", manifest_uri=manifest, planner=PLANNER.name,
        window_start=now + timedelta(seconds=window_lead_s),
        window_end=now + timedelta(seconds=window_lead_s + window_s),
        intelligence_ref=reference, authorising_officer=AUTHORISER.name, approve_with="airflow", poke_interval_s=2)
    conf["planner"] = ""  # the run's planner is whoever triggers it in Airflow
    return conf, reference


def staff_and_camera(settings: Settings, deployment_id: str) -> str:
    """The planner assigns the demo's operator to the deployment; the admin issues the camera's key."""
    with connect(settings) as conn:
        deployments.assign(conn, deployment_id, OPERATOR.name, "operator", PLANNER)
        return apikeys.create(conn, "demo-cam-1", ADMIN, deployment_id=deployment_id)


def audit_head(settings: Settings) -> tuple[audit.VerifyResult, dict[str, Any]]:
    """The chain walked and checked against the signed checkpoints, as `lfr audit verify` does."""
    from lfr_core.audit import checkpoints as audit_checkpoints

    with connect(settings) as conn:
        result = audit.verify(conn)
        summary, problems = audit_checkpoints.verify_checkpoints(conn, ObjectStore(settings), settings)
    result.problems += problems
    return result, summary


def finished(settings: Settings, deployment_id: str) -> bool:
    """The window's end is done with: every list purged and the report published after the window, by the
    deployment's run or, if it died, by the reconciling sweep."""
    from lfr_core.workflow import sweeps

    with connect(settings) as conn:
        dep = deployments.get(conn, deployment_id)
        left = watchlist_queries.unpurged_version_count(conn, deployment_id)
        return left == 0 and sweeps.final_report_published(conn, dep)


def report_markdown(settings: Settings, deployment_id: str) -> str:
    store = ObjectStore(settings)
    return store.get_bytes(settings.s3.bucket_reports, f"reports/{deployment_id}/report.md").decode()
