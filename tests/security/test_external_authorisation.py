"""Issue 27 item 3 and issue 28 item 7 (Regulation (EU) 2024/1689 Art 5(3)): under a pack that requires external prior
authorisation (eu-ai-act), direct SQL as the acting person cannot take a list live without the authorisation or an
urgent start, cannot forge or change a decision, set its own urgency deadline, or discard data outside the refusal
path; a refusal, or the urgency deadline passing, stops matching and leaves no alert, crop or counter (checked in
PostgreSQL and in S3), only the audit log and the receipt; uk-app deployments are unaffected."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from lfr_core.alerts import service as alerts
from lfr_core.deployments import authorisation
from lfr_core.deployments import queries as deployments_queries
from lfr_core.errors import NotFound, Refused
from lfr_core.reporting import grid, public_record
from lfr_core.watchlist.lifecycle import deployment_active_version
from lfr_core.workflow.discard import LAPSED_REASON, discard_stopped_uses, refuse
from tests.conftest import AUTHORISER, OPERATOR, signed_in_env
from tests.security.conftest import ATTACK_PLACE, a_version, direct, superuser

Denied = psycopg.errors.InsufficientPrivilege
ACTIVATE = "UPDATE watchlist_versions SET state = 'active' WHERE id = %s"
URGENT = ("INSERT INTO deployment_authorisations (deployment_id, kind, justification, deadline, recorded_by) "
          "VALUES (%s, 'urgent_start', 'imminent threat to life', now() + interval '30 days', %s) RETURNING *")
GRANT_WITHOUT_KIND = ("INSERT INTO deployment_authorisations (deployment_id, kind, authority, decision_ref, decided_on, "
                      "scope, recorded_by) VALUES (%s, 'granted', 'Court X', 'AUTH-1', current_date, 'the window', %s)")
GRANT = ("INSERT INTO deployment_authorisations (deployment_id, kind, authority, authority_kind, decision_ref, "
         "decided_on, scope, recorded_by) VALUES (%s, 'granted', 'Court X', 'judicial', 'AUTH-1', current_date, "
         "'the window', %s)")


def a_deployment_under(settings, pack: str, *, categories=("wanted_suspect",)) -> str:
    """A deployment inside its window under `pack`, with OPERATOR assigned, written as the administrator."""
    use_case = {"eu-ai-act": "art5_1_h_iii", "uk-app": "sought_persons"}[pack]
    with superuser(settings) as conn:
        dep = conn.execute(
            """INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                        authorising_officer, allowed_categories, threshold, created_by, policy_name,
                                        policy_version, use_case, location_rationale, dpia_ref, eia_ref, fria_ref,
                                        registration_ref)
               VALUES (%s, 'test', 'test', 'INT-X', now() - interval '1 hour', now() + interval '1 hour', 'ann.authoriser',
                       %s, 0.4, 'pat.planner', %s, (SELECT max(version) FROM policy_packs WHERE name = %s), %s,
                       'sought people seen here', 'D', 'E', 'F', 'R')
               RETURNING id""", (ATTACK_PLACE, list(categories), pack, pack, use_case)).fetchone()["id"]
        conn.execute("INSERT INTO deployment_staff (deployment_id, person, role, assigned_by) "
                     "VALUES (%s, %s, 'operator', 'pat.planner')", (dep, OPERATOR.name))
    return str(dep)


def with_outputs(settings, store, dep: str, version: str) -> list[str]:
    """Two alerts with crops in S3 (one also held in PostgreSQL) and a counter row, as a live use leaves them;
    returns the crops' object keys."""
    keys = []
    with superuser(settings) as conn:
        for n in range(2):
            alert_id = uuid.uuid4()
            key = f"{dep}/{alert_id}.jpg"
            store.put_bytes(settings.s3.bucket_alerts, key, b"\xff\xd8 probe crop", "image/jpeg")
            conn.execute("""INSERT INTO alerts (id, deployment_id, version_id, subject_ref, category, score, camera_id,
                                                track_id, captured_at, probe_crop_uri)
                            VALUES (%s, %s, %s, 'S-1', 'wanted_suspect', 0.9, 'cam', %s, now(), %s)""",
                         (alert_id, dep, version, f"t{n}", f"s3://{settings.s3.bucket_alerts}/{key}"))
            if n == 0:
                conn.execute("INSERT INTO held_alert_crops (alert_id, crop, crop_sha256) VALUES (%s, 'x', repeat('a', 64))", (alert_id,))
            keys.append(key)
        conn.execute("INSERT INTO deployment_counters (deployment_id, camera_id, frames, faces_seen) "
                     "VALUES (%s, 'cam', 10, 7)", (dep,))
    return sorted(keys)


def an_urgent_use_with_outputs(settings, db, store) -> tuple[str, str, list[str]]:
    """An eu-ai-act deployment whose approved list went live on an urgent start (no decision yet), with the
    alerts, crops and counter a live use leaves (`with_outputs`): its id, the version's and the crops' keys."""
    dep = a_deployment_under(settings, "eu-ai-act")
    version = a_version(settings, dep, "approved")
    authorisation.urgent_start(db, uuid.UUID(dep), AUTHORISER, "imminent threat to life")
    with direct(settings, OPERATOR.name) as conn:
        conn.execute(ACTIVATE, (version,))
        conn.commit()
    return dep, version, with_outputs(settings, store, dep, version)


def left_of(settings, store, dep: str) -> dict[str, int]:
    with superuser(settings) as conn:
        counts = {t: conn.execute(f"SELECT count(*) AS n FROM {t} WHERE deployment_id = %s", (dep,)).fetchone()["n"]
                  for t in ("alerts", "deployment_counters", "alert_reviews")}
        counts["held_alert_crops"] = conn.execute(
            "SELECT count(*) AS n FROM held_alert_crops h JOIN alerts a ON a.id = h.alert_id "
            "WHERE a.deployment_id = %s", (dep,)).fetchone()["n"]
    counts["objects"] = len(store.list_keys(settings.s3.bucket_alerts, f"{dep}/", versions=True))
    return counts


NOTHING = {"alerts": 0, "deployment_counters": 0, "alert_reviews": 0, "held_alert_crops": 0, "objects": 0}


def test_an_eu_list_cannot_go_live_without_an_authorisation_by_direct_sql(services):
    dep = a_deployment_under(services, "eu-ai-act")
    version = a_version(services, dep, "approved")
    with direct(services, OPERATOR.name) as conn, pytest.raises(Denied, match="requires external prior authorisation"):
        conn.execute(ACTIVATE, (version,))
    # An operator cannot record the authorisation for it, nor an authoriser in another's name.
    with direct(services, OPERATOR.name) as conn, pytest.raises(Denied, match="permission denied"):
        conn.execute(GRANT, (dep, OPERATOR.name))
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="in the name of"):
        conn.execute(GRANT, (dep, "someone.else"))
    # A decision names which of Art 5(3)'s two kinds of authority made it (migration 0034).
    with direct(services, AUTHORISER.name) as conn, pytest.raises(psycopg.errors.CheckViolation,
                                                                  match="deployment_authorisations_decision_kind"):
        conn.execute(GRANT_WITHOUT_KIND, (dep, AUTHORISER.name))
    with direct(services, AUTHORISER.name) as conn:
        conn.execute(GRANT, (dep, AUTHORISER.name))
        conn.commit()
    with direct(services, OPERATOR.name) as conn:
        conn.execute(ACTIVATE, (version,))
        conn.commit()
    # A decision, once recorded, never changes and is never deleted, and a second one is refused.
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied):
        conn.execute("UPDATE deployment_authorisations SET kind = 'refused' WHERE deployment_id = %s", (dep,))
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="recorded once"):
        conn.execute(GRANT.replace("'granted'", "'refused'"), (dep, AUTHORISER.name))


def test_an_urgent_start_lets_the_list_go_live_with_the_packs_deadline(services):
    dep = a_deployment_under(services, "eu-ai-act")
    version = a_version(services, dep, "approved")
    with direct(services, AUTHORISER.name) as conn:
        row = conn.execute(URGENT, (dep, AUTHORISER.name)).fetchone()
        conn.commit()
    # The caller asked for 30 days; the database armed the pack's 24 hours.
    assert abs(row["deadline"] - (row["recorded_at"] + timedelta(hours=24))) < timedelta(seconds=1)
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="recorded once"):
        conn.execute(URGENT, (dep, AUTHORISER.name))
    with direct(services, OPERATOR.name) as conn:
        conn.execute(ACTIVATE, (version,))
        conn.commit()
    # Nobody discards a use that is not refused or lapsed; only authorisers and the platform may call it at all.
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="only a refused or lapsed use"):
        conn.execute("SELECT lfr_discard_use(%s, 'no reason')", (dep,))
    with direct(services, OPERATOR.name) as conn, pytest.raises(Denied, match="permission denied for function"):
        conn.execute("SELECT lfr_discard_use(%s, 'no reason')", (dep,))


def test_a_refusal_stops_matching_and_leaves_only_the_audit_log_and_a_receipt(services, db, store):
    dep, version, keys = an_urgent_use_with_outputs(services, db, store)
    assert left_of(services, store, dep) == {**NOTHING, "alerts": 2, "deployment_counters": 1, "held_alert_crops": 1,
                                             "objects": 2}
    receipt = refuse(db, store, services, uuid.UUID(dep), AUTHORISER, authority="Court X",
                     authority_kind="judicial", decision_ref="REF-9")
    assert deployment_active_version(db, uuid.UUID(dep)) is None  # the live path finds no list: frames refused
    assert left_of(services, store, dep) == NOTHING
    assert receipt["deleted"]["alerts"] == 2 and receipt["deleted"]["counter_rows"] == 1
    assert receipt["deleted"]["held_crops"] == 1 and receipt["object_versions_deleted"] >= 2
    assert sorted(receipt["deleted"]["crop_key_sha256"]) == sorted(hashlib.sha256(k.encode()).hexdigest() for k in keys)
    assert receipt["deleted_by"] == AUTHORISER.name and "Court X" in receipt["reason"]
    # A stopped use counts nothing more, and a frame in flight raises no alert: the live service's writes leave no row.
    alerts.record_counts(db, dep, "cam", frames=5, faces_seen=3)
    with db.transaction(), pytest.raises(Denied, match="use was stopped"):
        db.execute("INSERT INTO alerts (deployment_id, version_id, subject_ref, category, score, camera_id, track_id, "
                   "captured_at) VALUES (%s, %s, 'S-1', 'wanted_suspect', 0.9, 'cam', 't9', now())", (dep, version))
    assert left_of(services, store, dep) == NOTHING
    with superuser(services) as conn:
        actions = [r["action"] for r in conn.execute(
            "SELECT action FROM audit.audit_log WHERE object_id IN (%s, %s) ORDER BY seq", (dep, version))]
        conn.execute("UPDATE deployments SET status = 'closed' WHERE id = %s", (dep,))
    for action in ("deployment.urgent_start", "deployment.authorisation_refused", "watchlist.expired",
                   "deployment.use_discarded", "deployment.use_objects_deleted"):
        assert action in actions
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="permission denied"):
        conn.execute("DELETE FROM use_deletion_receipts WHERE deployment_id = %s", (dep,))
    # Even for a refused use, a person deletes nothing directly: only lfr_discard_use does.
    for table in ("alerts", "deployment_counters"):
        with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="permission denied"):
            conn.execute(f"DELETE FROM {table} WHERE deployment_id = %s", (dep,))
    # The grid and the public results drop the use.
    since = datetime.now(UTC) - timedelta(hours=2)
    assert dep not in {str(d["id"]) for d in deployments_queries.closed_deployments(db, since)}
    assert all(r["Deployment Location"] != ATTACK_PLACE for r in grid.build(db, since).rows)
    with pytest.raises(NotFound, match="discarded"):
        public_record.results(db, dep)
    assert public_record.results_if_kept(db, dep) is None


def test_the_deadline_passing_without_a_decision_does_the_same(services, db, store):
    dep, _, _ = an_urgent_use_with_outputs(services, db, store)
    assert authorisation.state(db, uuid.UUID(dep)) == "urgent"
    with superuser(services) as conn:  # 24 hours pass
        conn.execute("UPDATE deployment_authorisations SET deadline = now() - interval '1 second' "
                     "WHERE deployment_id = %s", (dep,))
    assert authorisation.state(db, uuid.UUID(dep)) == "lapsed"
    # Too late to grant it now.
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="can only be refused"):
        conn.execute(GRANT, (dep, AUTHORISER.name))
    done, failures = discard_stopped_uses(db, store, services)
    assert dep in done and not [f for f in failures if dep in f]
    assert deployment_active_version(db, uuid.UUID(dep)) is None
    assert left_of(services, store, dep) == NOTHING
    receipt = authorisation.summary(db, uuid.UUID(dep))["deletion_receipt"]
    assert receipt["reason"] == LAPSED_REASON and receipt["deleted"]["alerts"] == 2


def test_uk_app_deployments_need_no_authorisation(services, db):
    dep = a_deployment_under(services, "uk-app")
    version = a_version(services, dep, "approved")
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="requires no external prior"):
        conn.execute(URGENT, (dep, AUTHORISER.name))
    with pytest.raises(Refused, match="requires no external prior"):
        authorisation.record_decision(db, uuid.UUID(dep), AUTHORISER, authority="Court", authority_kind="judicial",
                                      decision_ref="R", decided_on=datetime.now(UTC).date(), scope="s")
    with direct(services, OPERATOR.name) as conn:
        conn.execute(ACTIVATE, (version,))
        conn.commit()
    assert authorisation.state(db, uuid.UUID(dep)) == "not_required"
    with direct(services, AUTHORISER.name) as conn, pytest.raises(Denied, match="only a refused or lapsed use"):
        conn.execute("SELECT lfr_discard_use(%s, 'no reason')", (dep,))


def test_the_cli_records_an_urgent_start_and_a_refusal(services, store):
    def lfr(*args: str, who: str = AUTHORISER.name) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lfr_ops.cli.main", "deployment", *args], capture_output=True,
                              text=True, env={**os.environ, **signed_in_env(services, who)}, timeout=120)

    dep = a_deployment_under(services, "eu-ai-act")
    a_version(services, dep, "approved")
    started = lfr("urgent-start", dep, "--justification", "imminent threat to life", "--json")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout.splitlines()[-1])["kind"] == "urgent_start"
    grant = ("authorise", dep, "--authority", "Court X", "--authority-kind", "judicial", "--decision-ref", "R-1")
    assert lfr(*grant).returncode == 2  # a grant names its date and scope
    assert lfr(*grant[:4], "--authority-kind", "police", *grant[6:], "--date", "2026-12-01", "--scope", "s"
               ).returncode == 2  # Art 5(3) names two kinds of authority
    assert lfr(*grant, "--date", "2026-12-01", "--scope", "s", who=OPERATOR.name).returncode == 3
    refused = lfr(*grant, "--refused", "--json")
    assert refused.returncode == 0, refused.stderr
    receipt = json.loads(refused.stdout.splitlines()[-1])
    assert receipt["deleted"]["lists_stopped"] == 0 and receipt["deleted"]["authorisation"] == "refused"
    assert left_of(services, store, dep) == NOTHING
    shown = lfr("show", dep)
    assert shown.returncode == 0 and "refused by Court X (R-1)" in " ".join(shown.stdout.split()), shown.stdout
    uk = a_deployment_under(services, "uk-app")
    assert lfr("urgent-start", uk, "--justification", "j").returncode == 3
