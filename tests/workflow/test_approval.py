"""The approval request an authoriser answers in Airflow (lfr_core/workflow/approval.py): what it shows, who may
answer, and what each answer does in the database, with the real PostgreSQL, S3 server and face engine."""

from __future__ import annotations

import pytest

from lfr_core.audit import log as audit
from lfr_core.deployments import service as deployments
from lfr_core.errors import Refused
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.build import build_version
from lfr_core.workflow import approval
from tests.conftest import ADMIN, AUTHORISER, PLANNER, add_people, make_deployment, subject_rows


@pytest.fixture()
def draft(db, services, store, face_engine, identities, stage, tmp_path):
    add_people(services)
    blank = tmp_path / "blank.png"
    from PIL import Image

    Image.new("RGB", (300, 300), (90, 90, 90)).save(blank)
    rows = [*subject_rows(identities, 2), {"subject_ref": "BAD-noface", "category": "wanted_suspect",
                                           "rationale": "r", "provenance": "p", "capture_date": "",
                                           "path": str(blank)}]
    deployment = make_deployment(db, services, authorising_officer="Supt. R. Evans")  # an officer who is no person
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(rows), actor=PLANNER)
    return deployment, version, rows


def test_the_brief_shows_what_is_approved_and_only_assigned_authorisers_may_answer(db, services, draft, store,
                                                                                   face_engine, stage):
    deployment, version, rows = draft
    asked = approval.brief(services, str(version["id"]))
    assert asked["respondents"] == [], "no authoriser is assigned and the officer is not a person"
    deployments.assign(db, deployment["id"], AUTHORISER.name, "authoriser", PLANNER)
    deployments.assign(db, deployment["id"], "pam.both", "authoriser", PLANNER)
    asked = approval.brief(services, str(version["id"]))
    assert asked["respondents"] == sorted([AUTHORISER.name, "pam.both"])
    assert asked["state"] == "draft" and 0 < asked["seconds_left"] <= services.watchlist.approval_timeout_minutes * 60
    body = asked["body"]
    for shown in (deployment["place"], deployment["purpose"], deployment["legal_basis"], "accepted: **2**",
                  "rejected: **1**", "BAD-noface", "no face found", version["embedder"]["name"],
                  f"{version['threshold']:.4f}", "first version", rows[0]["subject_ref"]):
        assert shown in body, shown
    assert deployment["place"] in asked["subject"]
    # Times as the authoriser reads them: the force's zone, UK order, the zone named (issue 31 item 8).
    from lfr_core.times import format_span, format_time

    assert format_time(deployment["window_start"], seconds=False) in asked["subject"]
    assert format_span(deployment["window_start"], deployment["window_end"]) in body
    assert " UTC" not in asked["subject"] + body

    # A second version of the same deployment, built by pam.both: the brief shows the change, and its
    # builder is no longer among those who may answer.
    from tests.conftest import Actor

    pam = Actor("pam.both", "planner")
    second = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                           manifest_uri=stage(rows[:1]), actor=pam)
    asked = approval.brief(services, str(second["id"]))
    assert asked["respondents"] == [AUTHORISER.name]
    assert "Changes since version 1" in asked["body"] and rows[1]["subject_ref"] in asked["body"]

    # The builder's answer is refused by the database whichever way it arrives.
    with pytest.raises(Refused):
        approval.answer(services, str(second["id"]), "pam.both", approval.APPROVE)
    assert lifecycle.get_version(db, second["id"])["state"] == "draft"
    db.rollback()


def test_an_approval_is_applied_as_the_person_who_gave_it(db, services, draft):
    deployment, version, _ = draft
    with pytest.raises(Refused):
        approval.answer(services, str(version["id"]), ADMIN.name, approval.APPROVE)  # not an authoriser
    with pytest.raises(Refused):
        approval.answer(services, str(version["id"]), PLANNER.name, approval.APPROVE)  # its builder
    with pytest.raises(Refused, match="assigned to it, or its authorising officer"):  # nobody asked them yet
        approval.answer(services, str(version["id"]), AUTHORISER.name, approval.APPROVE)
    deployments.assign(db, deployment["id"], AUTHORISER.name, "authoriser", PLANNER)
    sealed = approval.answer(services, str(version["id"]), AUTHORISER.name, approval.APPROVE)
    assert sealed["approved_by"] == AUTHORISER.name and sealed["state"] == "approved" and sealed["criteria_sha256"]
    rows = db.execute("SELECT actor, role FROM audit_log WHERE object_id = %s AND action = 'watchlist.approved'",
                      (str(version["id"]),)).fetchall()
    assert [(r["actor"], r["role"]) for r in rows] == [(AUTHORISER.name, "authoriser")]
    with pytest.raises(Refused):
        approval.answer(services, str(version["id"]), AUTHORISER.name, approval.REJECT)  # no longer a draft
    db.rollback()


def test_a_rejection_purges_the_draft_and_cancels_the_deployment_in_the_authorisers_name(db, services, draft):
    deployment, version, _ = draft
    result = approval.answer(services, str(version["id"]), AUTHORISER.name, approval.REJECT)
    assert result == {"version_id": str(version["id"]), "state": "rejected", "rejected_by": AUTHORISER.name}
    assert lifecycle.get_version(db, version["id"])["state"] == "purged"
    dep = deployments.get(db, deployment["id"])
    assert dep["status"] == "cancelled" and AUTHORISER.name in dep["cancel_reason"]
    rejected = db.execute("SELECT actor FROM audit_log WHERE object_id = %s AND action = 'watchlist.rejected'",
                          (str(version["id"]),)).fetchall()
    assert [r["actor"] for r in rejected] == [AUTHORISER.name]
    assert audit.verify(db).ok
    db.rollback()
