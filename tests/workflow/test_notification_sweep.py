"""Issue 28 items 6-7: the reconciling sweep writes the notification of each ended use that its DAG run did not
write (a run that died), once; a use discarded under Art 5(3) gets the one saying it was stopped; a pack that does
not notify each use gets none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from lfr_core.identity.model import SYSTEM
from lfr_core.reporting import notification
from lfr_core.workflow import sweeps, tasks
from lfr_core.workflow.discard import discard_stopped_uses
from tests.reporting.test_notification import eu_deployment
from tests.rows import insert_deployment, insert_version
from tests.security.conftest import superuser
from tests.security.test_external_authorisation import an_urgent_use_with_outputs


def sweep(db, store, services) -> tuple[list[str], list[str]]:
    failures: list[str] = []
    done = sweeps.publish_missing_notifications(db, store, services, now=datetime.now(UTC), actor=SYSTEM,
                                                failures=failures)
    db.commit()
    return done, failures


def test_the_sweep_writes_a_missing_notification_once(db, services, store):
    dep = eu_deployment()
    insert_version(db, dep, state="expired", accepted=3, activated_at=datetime.now(UTC) - timedelta(hours=3))
    now = datetime.now(UTC)
    uk = str(insert_deployment(db, window_start=now - timedelta(hours=3), window_end=now - timedelta(hours=1),
                               status="closed"))
    assert not notification.published(store, services, dep)
    done, failures = sweep(db, store, services)
    assert dep in done and not [f for f in failures if dep in f]
    note = notification.read(store, services, dep)["notification"]
    assert note["results"]["alerts"] == 0 and note["system"]["watchlist_size"] == 3
    again, _ = sweep(db, store, services)
    assert dep not in again  # written once: the audit log shows it current
    key = notification.notification_keys(dep)[0]
    assert len(store.list_keys(services.s3.bucket_reports, key, versions=True)) == 1
    assert uk not in done and not notification.published(store, services, uk)


def test_the_sweep_writes_a_discarded_use_the_notification_saying_it_was_stopped(db, services, store):
    dep, _, _ = an_urgent_use_with_outputs(services, db, store)
    with superuser(services) as conn:  # no decision by the deadline, and the window is over
        conn.execute("UPDATE deployment_authorisations SET deadline = now() - interval '1 second' "
                     "WHERE deployment_id = %s", (dep,))
        conn.execute("UPDATE deployments SET window_end = now() - interval '1 minute' WHERE id = %s", (dep,))
    discarded, _ = discard_stopped_uses(db, store, services)
    db.commit()
    assert dep in discarded and not notification.published(store, services, dep)  # none was written before
    done, failures = sweep(db, store, services)
    assert dep in done and not [f for f in failures if dep in f]
    note = notification.read(store, services, dep)["notification"]
    assert note["stopped"]["authorisation"] == "lapsed" and "results" not in note
    assert "earlier_notification" not in note["stopped"]
    assert "S-1" not in json.dumps(note)
    again, _ = sweep(db, store, services)
    assert dep not in again
    # The DAG's own task, run late, writes the same kind of notification: no results of the discarded use.
    task = tasks.notify_use(services, dep)
    assert task["required"] is True and task["use_stopped"] is True
    assert "results" not in json.loads(store.get_uri(task["json_uri"]))
