"""Migration 0025 (issue 28 item 1) moves today's decisions into the adjudication model without losing them: its own
statements run on rows in the old shape (the administrator lifts the new checks for the test's transaction, then
rolls it back), each row lands where the documented mapping says, keeps what it was in migrated_from, and the audit
log's replay (lfr_core/reporting/tally.py) reads the old actions the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import psycopg
from psycopg.rows import dict_row

from lfr_core.db.connection import admin_dsn
from lfr_core.reporting.tally import replay
from tests.rows import insert_deployment, insert_version

# (old status, old engagement) -> (status, engagement result, outcome), as the migration's header documents it.
MAPPING = {
    ("pending", None): ("pending", None, None),
    ("confirmed", None): ("confirmed", None, None),
    ("declined", None): ("declined", None, None),
    ("not_engaged", None): ("confirmed", "not_engaged", None),
    ("confirmed", "arrested"): ("confirmed", "subject", "arrest"),
    ("confirmed", "spoken_to"): ("confirmed", "subject", "other"),
    ("confirmed", "no_further_action"): ("confirmed", "subject", "no_action"),
    ("confirmed", "misidentified"): ("confirmed", "someone_else", "no_action"),
}


def test_old_decisions_move_as_documented_and_keep_what_they_were(db, services):
    sql = (resources.files("lfr_core.db.migrations") / "0025_adjudication_model.sql").read_text()
    move = sql[sql.index("ALTER TABLE alerts DISABLE TRIGGER USER;"):]
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=2), window_end=now - timedelta(hours=1),
                            status="closed", place="Migration Row")
    vid = insert_version(db, dep, state="expired", accepted=1, activated_at=now - timedelta(hours=2))
    with psycopg.connect(admin_dsn(services), row_factory=dict_row) as admin:
        # The table as the migration found it: only old-shape rows. Other tests' alerts, in today's shape, leave
        # (triggers and foreign keys off for this transaction, which is rolled back).
        admin.execute("SET LOCAL session_replication_role = replica")
        admin.execute("DELETE FROM alerts")
        admin.execute("SET LOCAL session_replication_role = origin")
        admin.execute("ALTER TABLE alerts DROP CONSTRAINT alerts_status_check, DROP CONSTRAINT alerts_engagement_check,"
                      " DROP CONSTRAINT alerts_disposal_when_engaged")
        ids = {}
        for (status, engagement) in MAPPING:
            ids[(status, engagement)] = str(admin.execute(
                """INSERT INTO alerts (deployment_id, version_id, subject_ref, category, score, camera_id, track_id,
                                       captured_at, status, adjudicated_by, adjudicated_at, engagement, engagement_by)
                   VALUES (%s, %s, 'M-1', 'wanted_by_court', 0.5, 'cam', 't', now(), %s,
                           CASE WHEN %s <> 'pending' THEN 'olly.operator' END,
                           CASE WHEN %s <> 'pending' THEN now() END, %s,
                           CASE WHEN %s::text IS NOT NULL THEN 'olly.operator' END) RETURNING id""",
                (dep, vid, status, status, status, engagement, engagement)).fetchone()["id"])
        admin.execute(move)
        moved = {old: admin.execute("SELECT status, engagement, disposal, engagement_by, migrated_from FROM alerts "
                                    "WHERE id = %s", (i,)).fetchone() for old, i in ids.items()}
        admin.rollback()
    assert {old: (r["status"], r["engagement"], r["disposal"]) for old, r in moved.items()} == MAPPING
    for (status, engagement), row in moved.items():
        changed = status == "not_engaged" or engagement is not None
        assert row["migrated_from"] == ({"status": status, "engagement": engagement} if changed else None)
    assert moved[("not_engaged", None)]["engagement_by"] == "olly.operator"  # the decider made that choice
    # The audit log's old actions replay to the same place.
    for (status, engagement), expected in MAPPING.items():
        logged = [("a", "alert.raise", None)] + ([("a", f"alert.{status}", None)] if status != "pending" else []) \
            + ([("a", f"alert.engagement.{engagement}", None)] if engagement else [])
        got = replay(logged)["a"]
        assert (got["status"], got["engagement"], got["disposal"]) == expected
