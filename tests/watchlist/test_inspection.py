"""The authoriser's face view and probe test (issue 27 item 6) against the real PostgreSQL, S3 server and face
engine: each is a consultation logged with its reason, only an assigned authoriser may make it, the faces are
crops, and a probe leaves nothing stored."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import psycopg
import pytest
from psycopg.rows import dict_row

from lfr_core.audit import log as audit
from lfr_core.db.connection import admin_dsn
from lfr_core.deployments import service as deployments
from lfr_core.errors import Forbidden, InvalidInput
from lfr_core.identity.model import Actor
from lfr_core.watchlist import inspection
from lfr_core.watchlist.build import build_version
from tests.conftest import AUTHORISER, PLANNER, make_deployment, subject_rows

OTHER_AUTHORISER = Actor("pam.both", "authoriser")  # an authoriser, not assigned to this deployment


@pytest.fixture()
def draft(db, services, store, face_engine, identities, stage):
    return assigned_draft(db, services, store, face_engine, identities, stage)


def assigned_draft(db, services, store, face_engine, identities, stage):
    """A draft of three subjects whose deployment has AUTHORISER assigned."""
    deployment = make_deployment(db, services)
    deployments.assign(db, deployment["id"], AUTHORISER.name, "authoriser", PLANNER)
    return build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                         manifest_uri=stage(subject_rows(identities, 3)), actor=PLANNER)


def _consultations(db, version_id: str) -> list[dict]:
    return [r for r in audit.export(db, object_type="watchlist_version", object_id=str(version_id))
            if r["action"].startswith("consulted.")]


def test_the_face_view_shows_crops_and_is_logged_with_its_reason(db, services, store, draft):
    page = inspection.faces(db, store, AUTHORISER, str(draft["id"]), reason="checking the list before sealing",
                            per_page=2)
    assert page.total == 3 and page.pages == 2 and len(page.faces) == 2
    whole = cv2.imdecode(np.frombuffer(store.get_uri(draft["entries"][0]["image_uri"]), np.uint8), cv2.IMREAD_COLOR)
    crop = cv2.imdecode(np.frombuffer(page.faces[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert crop.shape[0] * crop.shape[1] < whole.shape[0] * whole.shape[1]  # the face, not the custody photo
    second = inspection.faces(db, store, AUTHORISER, str(draft["id"]), reason="page two", page=2, per_page=2)
    assert len(second.faces) == 1
    rows = _consultations(db, draft["id"])
    assert [(r["action"], r["actor"], r["role"], r["details"]["reason"], r["details"]["page"]) for r in rows] == [
        ("consulted.watchlist_faces", AUTHORISER.name, "authoriser", "checking the list before sealing", 1),
        ("consulted.watchlist_faces", AUTHORISER.name, "authoriser", "page two", 2)]
    assert len(rows[0]["details"]["entries"]) == 2


def test_the_view_needs_a_reason_and_an_assigned_authoriser(db, services, store, draft):
    with pytest.raises(InvalidInput):
        inspection.faces(db, store, AUTHORISER, str(draft["id"]), reason=" ")
    for actor in (OTHER_AUTHORISER, PLANNER):
        with pytest.raises(Forbidden, match="authoriser assigned"):
            inspection.faces(db, store, actor, str(draft["id"]), reason="curious")
    assert _consultations(db, draft["id"]) == []


def test_the_authorising_officer_may_see_what_they_are_asked_to_approve(db, services, store, face_engine,
                                                                         identities, stage):
    """The approval asks the deployment's authorising officer even when nobody assigned them (approval.respondents);
    the faces its body links to are theirs to see as well (found in Chromium: tests/dags/test_airflow_ui.py)."""
    from lfr_core.workflow import approval

    deployment = make_deployment(db, services, authorising_officer=AUTHORISER.name)  # no one assigned as authoriser
    draft = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                          manifest_uri=stage(subject_rows(identities, 3)), actor=PLANNER)
    assert AUTHORISER.name in approval.respondents(db, deployment, PLANNER.name)
    assert inspection.faces(db, store, AUTHORISER, str(draft["id"]), reason="the list I am asked to approve").total == 3
    with pytest.raises(Forbidden, match="or its authorising officer"):
        inspection.faces(db, store, OTHER_AUTHORISER, str(draft["id"]), reason="curious")


def _snapshot(services, store, roots: list[Path], since: float) -> dict:
    with psycopg.connect(admin_dsn(services), row_factory=dict_row) as conn:
        tables = [r["t"] for r in conn.execute(
            """SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables
               WHERE schemaname IN ('public', 'audit') ORDER BY 1""")]
        rows = {t: conn.execute(f"SELECT count(*) AS n FROM {t}").fetchone()["n"] for t in tables}
        text = "\n".join(str(r["x"]) for t in tables for r in conn.execute(f"SELECT t::text AS x FROM {t} AS t"))
    objects = {(b, k) for b in store.buckets for k, _ in store.list_keys(b)}
    files = {p for root in roots for p in root.rglob("*") if p.is_file() and p.stat().st_mtime >= since}
    return {"rows": rows, "text": text, "objects": objects, "files": files}


def test_a_probe_finds_its_subject_is_logged_and_leaves_nothing_stored(db, services, store, face_engine, identities,
                                                                       draft, caplog):
    name, images = next(iter(identities.items()))
    probe = Path(images[1].path).read_bytes()  # another image of the first subject
    roots = [Path(tempfile.gettempdir()), services.home]
    since = time.time()
    before = _snapshot(services, store, roots, since)
    result = inspection.probe(db, face_engine, services, AUTHORISER, str(draft["id"]), probe, reason="does it find them")
    searched = [f for f in result.faces if f.searched]
    assert searched and searched[0].candidates[0].subject_ref == f"SUBJ-{name}"
    assert searched[0].candidates[0].would_alert == (searched[0].candidates[0].score >= result.threshold)
    assert [c.score for c in searched[0].candidates] == sorted((c.score for c in searched[0].candidates), reverse=True)
    assert result.list_size == 3 and result.threshold == pytest.approx(draft["threshold"])
    [row] = _consultations(db, draft["id"])
    assert (row["action"], row["actor"], row["details"]["reason"], row["details"]["faces"]) == (
        "consulted.watchlist_probe", AUTHORISER.name, "does it find them", len(searched))

    after = _snapshot(services, store, roots, since)
    grown = {t: after["rows"][t] - n for t, n in before["rows"].items() if after["rows"][t] != n}
    assert grown == {"audit.audit_log": 1}  # the consultation's row, nothing else
    assert after["objects"] == before["objects"]
    assert hashlib.sha256(probe).hexdigest() not in after["text"]
    embedding = face_engine.analyse_batch([cv2.imdecode(np.frombuffer(probe, np.uint8), cv2.IMREAD_COLOR)],
                                          purpose="live")[0][0].embedding
    assert f"{float(embedding[0]):.8g},{float(embedding[1]):.8g}" not in after["text"]
    for path in after["files"] - before["files"]:
        data = path.read_bytes() if os.access(path, os.R_OK) else b""
        assert probe[:4096] not in data and f"{float(embedding[0]):.8g}".encode() not in data, path
    assert f"{float(embedding[0]):.8g}" not in caplog.text


def test_a_probe_is_refused_to_an_unassigned_authoriser(db, services, face_engine, identities, draft):
    probe = Path(next(iter(identities.values()))[1].path).read_bytes()
    with pytest.raises(Forbidden):
        inspection.probe(db, face_engine, services, OTHER_AUTHORISER, str(draft["id"]), probe, reason="curious")
    assert _consultations(db, draft["id"]) == []


def test_the_cli_writes_a_page_of_crops_and_probes_exit_3_for_an_unassigned_authoriser(services, identities, draft,
                                                                                     tmp_path, db):
    from tests.watchlist.test_cli import last_json, lfr

    shown = last_json(lfr("watchlist", "faces", str(draft["id"]), "--reason", "before sealing", "--out",
                          str(tmp_path / "faces"), "--json", actor=AUTHORISER.name))
    assert shown["total"] == 3 and len(shown["faces"]) == 3
    assert all(Path(f["file"]).read_bytes()[:2] == b"\xff\xd8" for f in shown["faces"])  # JPEG crops
    name, images = next(iter(identities.items()))
    probed = last_json(lfr("watchlist", "probe", str(draft["id"]), "--image", str(images[1].path), "--reason",
                           "does it find them", "--json", actor=AUTHORISER.name))
    assert probed["faces"][0]["candidates"][0]["subject_ref"] == f"SUBJ-{name}"
    assert "false_alerts_per_10k_faces" in probed and probed["list_size"] == 3
    refused = lfr("watchlist", "probe", str(draft["id"]), "--image", str(images[1].path), "--reason", "curious",
                  actor=OTHER_AUTHORISER.name)
    assert refused.returncode == 3 and "authoriser assigned" in refused.stderr
    assert [r["details"]["reason"] for r in _consultations(db, draft["id"])] == ["before sealing", "does it find them"]
