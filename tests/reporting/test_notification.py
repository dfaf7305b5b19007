"""The notification of each use (Art 5(4), issue 28 item 6): what Art 5(6) asks, in JSON and PDF, read back by the
CLI, and no subject, officer, intelligence reference or free text of the deployment in it (scanned)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from lfr_core.config import get_settings
from lfr_core.db.connection import admin_dsn
from lfr_core.errors import Refused
from lfr_core.reporting import notification
from tests.conftest import AUDITOR, add_people, signed_in_env
from tests.reporting.test_public_times import pdf_text
from tests.rows import _write, insert_alert, insert_deployment, insert_version

# Everything sensitive the deployment and its list hold: none of it may reach the notification.
SECRETS = {"place": "Zebra Crossing 7", "purpose": "Operation Nightjar sweep", "legal_basis": "Warrant K-88812",
           "intelligence_ref": "INTEL-Q7731", "authorising_officer": "Supt Okonkwo-Vance",
           "created_by": "pc-hollingsworth", "dpia_ref": "DPIA-55120", "eia_ref": "EIA-55121",
           "fria_ref": "FRIA-55122", "registration_ref": "EUDB-55123",
           "location_rationale": "Hotspot per briefing Falcon"}
# What the authoriser recorded of the authority's decision (issue 27 item 3): only its kind and date may go out.
DECISION = {"authority": "Southwark Crown Court", "decision_ref": "AUTH-DEC-77310", "scope": "the Nightjar window",
            "justification": "Kestrel threat to life"}


def record_authorisation(dep: str, kind: str, *, recorded_at: datetime, deadline: datetime | None = None,
                         authority: str = DECISION["authority"], authority_kind: str = "judicial") -> None:
    """A decision or urgent start as the authoriser recorded it while the use was open: written as the
    administrator with the triggers off, since the use has already ended in these tests."""
    decision = kind != "urgent_start"
    with psycopg.connect(admin_dsn(get_settings())) as admin:
        admin.execute("SET LOCAL session_replication_role = replica")
        admin.execute(
            """INSERT INTO deployment_authorisations (deployment_id, kind, authority, authority_kind, decision_ref,
                                                      decided_on, scope, justification, deadline, recorded_by,
                                                      recorded_at)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'ali.authoriser', %s)""",
            (dep, kind, authority if decision else None, authority_kind if decision else None,
             DECISION["decision_ref"] if decision else None,
             recorded_at.date() if kind == "granted" else None, DECISION["scope"] if kind == "granted" else None,
             None if decision else DECISION["justification"], deadline, recorded_at))


def eu_deployment(*, status: str = "closed", policy: tuple[str, int] = ("eu-ai-act", 3)) -> str:
    now = datetime.now(UTC)
    row = _write(
        """INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                    authorising_officer, allowed_categories, threshold, created_by, status,
                                    policy_name, policy_version, use_case, location_rationale, dpia_ref, eia_ref,
                                    fria_ref, registration_ref)
           VALUES (%(place)s, %(purpose)s, %(legal_basis)s, %(intelligence_ref)s, %(start)s, %(end)s,
                   %(authorising_officer)s, %(cats)s, 0.363, %(created_by)s, %(status)s, %(pack)s, %(version)s,
                   %(use_case)s, %(location_rationale)s, %(dpia_ref)s, %(eia_ref)s, %(fria_ref)s,
                   %(registration_ref)s) RETURNING id""",
        {**SECRETS, "start": now - timedelta(hours=3), "end": now - timedelta(hours=1), "cats": ["wanted_by_court"],
         "status": status, "pack": policy[0], "version": policy[1],
         "use_case": "art5_1_h_iii" if policy[0] == "eu-ai-act" else "crime_hotspot"})
    return str(row["id"])


@pytest.fixture()
def closed_use(db):
    dep = eu_deployment()
    now = datetime.now(UTC)
    record_authorisation(dep, "granted", recorded_at=now - timedelta(hours=4))
    version = insert_version(db, dep, state="expired", accepted=4, activated_at=now - timedelta(hours=3))
    db.execute("INSERT INTO deployment_counters (deployment_id, camera_id, frames, faces_seen) VALUES (%s, 'c', 10, 900)",
               (dep,))
    db.commit()
    for status, engagement, disposal in (("confirmed", "subject", "arrest"), ("declined", None, None),
                                         ("pending", None, None)):
        insert_alert(db, dep, version, status=status, engagement=engagement, disposal=disposal)
    return dep


def scan(text: str) -> list[str]:
    """The sensitive strings found in `text`: the deployment's own, its list's subjects, the officers' names."""
    found = [v for v in (*SECRETS.values(), *DECISION.values()) if v.lower() in text.lower()]
    return found + [s for s in ("ROW-000", "ROW-001", "pc-rows", "supt-rows") if s.lower() in text.lower()]


def test_the_notification_says_what_art_5_6_asks_and_nothing_sensitive(db, services, closed_use):
    note = notification.build(db, services, closed_use)
    assert note["legal_basis"]["policy_pack"] == "eu-ai-act v3"
    assert note["legal_basis"]["reference"] == "Regulation (EU) 2024/1689 Art 5(1)(h)(iii), Annex II"
    granted = note["authorisation"]
    assert (granted["state"], granted["result"], granted["prior_authorisation_required"]) == (
        "granted", "authorised", True)
    assert granted["authority_kind"] == "judicial authority"
    assert granted["decided_on"] == (datetime.now(UTC) - timedelta(hours=4)).date().isoformat()
    assert (granted["urgent_start"], granted["decided_within_urgency_deadline"]) == (False, None)
    assert (note["authorisation"]["fria_completed"], note["authorisation"]["registered"]) == (True, True)
    assert note["system"]["watchlist_size"] == 4
    assert note["results"] == {"faces_seen": 900, "alerts": 3, "true_alerts": 1, "false_alerts": 1,
                               "awaiting_decision": 1}
    assert scan(json.dumps(note)) == []


def test_published_json_and_pdf_carry_no_identifier_and_the_cli_reads_it_back(db, services, store, closed_use):
    published = notification.publish(db, store, services, closed_use)
    db.commit()
    stored = json.loads(store.get_uri(published["json_uri"]))
    assert stored["use"]["deployment"] == closed_use and scan(json.dumps(stored)) == []
    pdf = store.get_uri(published["pdf_uri"])
    text = pdf_text(pdf).replace("\\(", "(").replace("\\)", ")")  # PDF strings escape brackets
    assert pdf.startswith(b"%PDF") and "Art 5(4)" in text and "eu-ai-act v3" in text, text
    assert scan(text) == [] and scan(pdf.decode("latin-1")) == []
    year = json.loads(store.get_uri(published["annual_uri"]))
    assert year["decisions"]["authorised"] >= 1 and year["uses_by_objective"]["eu-ai-act: art5_1_h_iii"] >= 1
    assert scan(json.dumps(year)) == []

    add_people(services)
    env = {**os.environ, **signed_in_env(services, AUDITOR.name)}
    shown = subprocess.run([sys.executable, "-m", "lfr_ops.cli.main", "report", "notification", closed_use, "--json"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert shown.returncode == 0, shown.stderr
    read_back = json.loads(shown.stdout.splitlines()[-1])
    assert read_back["json_sha256"] == published["json_sha256"] and read_back["notification"] == stored


def test_a_use_not_ended_or_under_a_pack_without_the_rule_is_refused(db, services):
    with pytest.raises(Refused, match="notified after it ends"):
        notification.build(db, services, eu_deployment(status="live"))
    now = datetime.now(UTC)
    uk = insert_deployment(db, window_start=now - timedelta(hours=3), window_end=now - timedelta(hours=1),
                           status="closed")
    with pytest.raises(Refused, match="does not require a notification"):
        notification.build(db, services, str(uk))
    assert notification.required(db, str(uk)) is False


def test_a_deployment_never_authorised_is_counted_as_such_in_the_year(db, services):
    dep = eu_deployment(status="lapsed")
    assert notification.build(db, services, dep)["authorisation"]["result"].startswith("not decided")
    year = notification.annual_statistics(db, (datetime.now(UTC) - timedelta(hours=3)).year)  # the window's start
    assert year["decisions"]["not decided before the window ended (lapsed; not used)"] >= 1


def test_an_urgent_start_a_refusal_and_a_lapse_are_notified_and_counted_from_the_recorded_decisions(db, services):
    year = (datetime.now(UTC) - timedelta(hours=3)).year
    before = notification.annual_statistics(db, year)
    now = datetime.now(UTC)
    in_time, refused, lapsed = (eu_deployment() for _ in range(3))
    for dep in (in_time, lapsed):
        record_authorisation(dep, "urgent_start", recorded_at=now - timedelta(hours=5),
                             deadline=now + timedelta(hours=19))
    record_authorisation(in_time, "granted", recorded_at=now - timedelta(hours=2),
                         authority="Bundesamt für Datenschutzaufsicht", authority_kind="administrative")
    record_authorisation(refused, "refused", recorded_at=now - timedelta(hours=4))
    _write("UPDATE deployment_authorisations SET deadline = now() - interval '1 second' WHERE deployment_id = %s",
           (lapsed,))

    urgent = notification.build(db, services, in_time)["authorisation"]
    assert urgent["result"] == "authorised after an urgent start, within the deadline"
    assert (urgent["urgent_start"], urgent["decided_within_urgency_deadline"]) == (True, True)
    assert urgent["authority_kind"] == "independent administrative authority"
    no = notification.build(db, services, refused)["authorisation"]
    assert (no["state"], no["result"], no["authority_kind"], no["decided_on"]) == (
        "refused", "not authorised (refused)", "judicial authority", None)
    gone = notification.build(db, services, lapsed)["authorisation"]
    assert gone["result"] == "not authorised (lapsed: no decision within 24 hours of the urgent start)"
    assert (gone["urgent_start"], gone["decided_within_urgency_deadline"], gone["authority_kind"]) == (
        True, False, None)
    assert scan(json.dumps([urgent, no, gone])) == []

    after = notification.annual_statistics(db, year)
    assert after["authorisation_requests"] - before["authorisation_requests"] == 3
    assert (after["urgent_starts"] - before["urgent_starts"],
            after["urgent_decided_within_deadline"] - before["urgent_decided_within_deadline"]) == (2, 1)
    grew = {k: n - before["decisions"].get(k, 0) for k, n in after["decisions"].items()}
    assert {k: n for k, n in grew.items() if n} == {
        "authorised after an urgent start, within the deadline": 1, "not authorised (refused)": 1,
        "not authorised (lapsed: no decision within 24 hours of the urgent start)": 1}
    by_kind = {k: n - before["decisions_by_authority"].get(k, 0) for k, n in after["decisions_by_authority"].items()}
    assert {k: n for k, n in by_kind.items() if n} == {"independent administrative authority": 1, "judicial authority": 1}
    assert scan(json.dumps(after)) == []


def test_a_pack_without_prior_authorisation_says_none_was_required(db, services):
    from lfr_core.deployments import policy_store
    from lfr_core.deployments import service as deployments

    dep = eu_deployment(policy=("uk-app", 2))
    row = deployments.get(db, dep)
    pack = policy_store.of_deployment(db, row).pack
    out = notification.external_authorisation(db, row, pack)
    assert (out["state"], out["prior_authorisation_required"], out["authority_kind"], out["urgent_start"]) == (
        "not_required", False, None, False)
    assert out["result"] == "no prior authorisation required by the policy pack"
