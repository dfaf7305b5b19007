"""Issue 28 item 7 with item 6: a use whose authorisation lapses after its notification was written (an urgent start,
a window shorter than the authority's deadline, no decision) gets a
notification that says only that it was stopped and its outputs deleted (with the receipt's time); the earlier one
is deleted where the reports bucket allows it, else superseded by a version marking it withdrawn; the year's
statistics count the lapse but not the use; the per-use log records the refusal and cites the receipt."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from minio.versioningconfig import ENABLED, VersioningConfig

from lfr_core.audit import use_log
from lfr_core.deployments import authorisation
from lfr_core.reporting import notification
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.workflow.discard import LAPSED_REASON, discard_stopped_uses
from lfr_ops.local_stack.s3server import EmbeddedS3
from tests.conftest import own_reports_bucket
from tests.reporting.test_notification import scan
from tests.security.conftest import superuser
from tests.security.test_external_authorisation import an_urgent_use_with_outputs


def test_a_lapse_after_the_notification_withdraws_it_and_the_use_log_cites_the_receipt(db, services, store):
    dep, version, _ = an_urgent_use_with_outputs(services, db, store)
    with superuser(services) as conn:  # the window ends; the DAG notifies the use with its results
        conn.execute("UPDATE watchlist_versions SET state = 'expired', activated_at = coalesce(activated_at, now() - "
                     "interval '30 minutes'), expired_at = now() WHERE id = %s", (version,))
        conn.execute("UPDATE deployments SET status = 'closed', window_end = now() - interval '1 minute' "
                     "WHERE id = %s", (dep,))
    first = notification.publish(db, store, services, dep)
    db.commit()
    assert first["notification"]["results"]["alerts"] == 2
    year = int(first["notification"]["use"]["window_start"][:4])
    uses_before = notification.annual_statistics(db, year)["uses"]

    with superuser(services) as conn:  # the authority's deadline passes without a decision
        conn.execute("UPDATE deployment_authorisations SET deadline = now() - interval '1 second' "
                     "WHERE deployment_id = %s", (dep,))
    done, failures = discard_stopped_uses(db, store, services)
    db.commit()
    assert dep in done and not [f for f in failures if dep in f]
    receipt = authorisation.summary(db, uuid.UUID(dep))["deletion_receipt"]
    assert receipt["reason"] == LAPSED_REASON
    bucket = services.s3.bucket_reports
    json_key, pdf_key = notification.notification_keys(dep)
    note = json.loads(store.get_bytes(bucket, json_key))
    assert "results" not in note and "system" not in note
    assert note["stopped"]["use_stopped"] is True and note["stopped"]["authorisation"] == "lapsed"
    assert note["stopped"]["outputs_deleted_at"] == receipt["deleted_at"].isoformat()
    assert note["authorisation"]["result"] == "not authorised (lapsed; use stopped and its outputs deleted)"
    earlier = note["stopped"]["earlier_notification"]
    assert earlier["json_sha256"] == first["json_sha256"]
    # The platform's key may not delete under reports/ (storage/policy.py), so the earlier version stays,
    # noncurrent, under the one withdrawing it.
    versions = [v for _, v in store.list_keys(bucket, json_key, versions=True)]
    assert earlier["disposition"] == "withdrawn" and len(versions) == 2
    kept = [json.loads(store.get_bytes(bucket, json_key, v)) for v in versions]
    assert sorted("stopped" in k for k in kept) == [False, True]
    assert LAPSED_REASON not in json.dumps(note) and scan(json.dumps(note)) == []
    assert store.get_bytes(bucket, pdf_key).startswith(b"%PDF")
    # The refusal is counted among the year's decisions; the use and its results are not.
    stats = notification.annual_statistics(db, year)
    assert stats["uses"] == uses_before - 1
    assert stats["decisions"]["not authorised (lapsed; use stopped and its outputs deleted)"] >= 1
    # Publishing again finds the stopped note already there: nothing more is withdrawn.
    again = notification.publish(db, store, services, dep)
    db.commit()
    assert "earlier_notification" not in again["notification"]["stopped"]

    log = use_log.export(db, dep, retention_days=services.audit.use_log_retention_days)
    gone = log["discarded"]
    assert gone["stopped_by"] == "lapsed" and gone["refusal"] is None and gone["receipt"]["reason"] == LAPSED_REASON
    assert gone["receipt"]["deployment_id"] == dep  # use_deletion_receipts is keyed by the deployment
    logged = datetime.fromisoformat(gone["receipt"]["logged_at"])
    assert abs(logged - receipt["deleted_at"]) < timedelta(seconds=5)
    assert gone["receipt"]["alerts_deleted"] == 2 and gone["objects_deleted"]
    assert use_log.verify(db, log) == []
    edited = {**log, "discarded": {**gone, "stopped_by": "refused"}}
    assert any("discarded.stopped_by" in p for p in use_log.verify(db, edited))


def earlier_note(store, settings, dep: str) -> str:
    """A notification with results, as written before the use was discarded; returns its sha256."""
    return store.put_json(settings.s3.bucket_reports, notification.notification_keys(dep)[0],
                          {"results": {"alerts": 2}}).sha256


def test_the_earlier_notification_is_deleted_only_where_the_bucket_allows_it(services, store):
    # Object lock on the reports bucket: it is kept and superseded, marked withdrawn.
    locked = own_reports_bucket(services)
    locked_store = ObjectStore(locked)
    dep = str(uuid.uuid4())
    sha = earlier_note(locked_store, locked, dep)
    assert locked_store.object_locked(locked.s3.bucket_reports)
    assert notification.supersede_earlier(locked_store, locked, dep) == {"json_sha256": sha, "disposition": "withdrawn"}
    assert locked_store.list_keys(locked.s3.bucket_reports, f"reports/{dep}/")
    # No lock and a key that may delete there (the S3 administrator's, on a bucket made without lock): it goes.
    server = EmbeddedS3.from_settings(services)
    plain = services.model_copy(update={"s3": services.s3.model_copy(
        update={"bucket_reports": f"lfr-plain-{uuid.uuid4().hex[:12]}"})})
    admin = server.admin_store()
    admin.client.make_bucket(plain.s3.bucket_reports)
    admin.client.set_bucket_versioning(plain.s3.bucket_reports, VersioningConfig(ENABLED))
    assert not admin.object_locked(plain.s3.bucket_reports)
    dep = str(uuid.uuid4())
    sha = earlier_note(admin, plain, dep)
    assert notification.supersede_earlier(admin, plain, dep) == {"json_sha256": sha, "disposition": "deleted"}
    assert admin.list_keys(plain.s3.bucket_reports, f"reports/{dep}/", versions=True) == []
    # Nothing written before: nothing to supersede.
    assert notification.supersede_earlier(store, services, str(uuid.uuid4())) is None
