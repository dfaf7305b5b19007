"""What the deployment run's trigger form offers a planner (issue 31 item 6): the platform's authorisers and the
staged folders a new deployment may use, read from the database and the object store; free text when they do
not answer; and the options a run takes from the API's conf only, checked in the run's first task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.config import Settings
from lfr_core.db.connection import connect
from lfr_core.errors import InvalidInput
from lfr_core.storage.objectstore import ObjectStore
from lfr_core.watchlist.sources import claim, policy_for
from lfr_core.workflow import trigger
from tests.conftest import AUTHORISER, PLANNER
from tests.rows import insert_deployment


def test_the_form_offers_the_authorisers_and_the_unclaimed_staged_folders(services, tmp_path_factory):
    store = ObjectStore(services)
    bucket = services.s3.bucket_sources
    free, taken = f"form-free-{uuid.uuid4().hex[:6]}", f"form-taken-{uuid.uuid4().hex[:6]}"
    store.put_bytes(bucket, f"staging/{free}/manifest.csv", b"subject_ref\n")
    store.put_bytes(bucket, f"staging/{free}/custody/a.jpg", b"x")
    store.put_bytes(bucket, f"staging/{taken}/manifest.json", b"[]")
    store.put_bytes(bucket, f"staging/form-no-manifest-{uuid.uuid4().hex[:6]}/custody/a.jpg", b"x")
    now = datetime.now(UTC)
    deployment = insert_deployment(None, window_start=now + timedelta(hours=1), window_end=now + timedelta(hours=2))
    with connect(services) as conn, conn.transaction():
        claim(conn, policy_for(services, f"s3://{bucket}/staging/{taken}/manifest.json"), deployment)
    local = tmp_path_factory.getbasetemp() / f"operation-{uuid.uuid4().hex[:6]}"  # a source root's own folder
    local.mkdir()
    (local / "manifest.csv").write_text("subject_ref\n")

    choices = trigger.form_choices(services)

    assert choices.unavailable == ()
    assert choices.authorisers is not None and AUTHORISER.name in choices.authorisers
    assert "pam.both" in choices.authorisers and PLANNER.name not in choices.authorisers
    offered = {f.name: f.manifest_uri for f in choices.folders or ()}
    assert offered[free] == f"s3://{bucket}/staging/{free}/manifest.csv"
    assert taken not in offered, "a folder another deployment claimed is not offered"
    assert not any(name.startswith("form-no-manifest-") for name in offered)
    assert offered[str(local)] == str(local / "manifest.csv"), "a folder directly inside a source root"


def test_the_form_falls_back_to_free_text_when_the_database_does_not_answer(tmp_path):
    settings = Settings(home=tmp_path, db={"embedded": False, "port": 1025, "connect_timeout_s": 1})
    choices = trigger.form_choices(settings)
    assert choices.authorisers is None and choices.folders is None
    assert choices.unavailable and "database did not answer" in choices.unavailable[0]


def test_the_conf_only_options_have_one_set_of_defaults_and_bounds():
    assert trigger.run_options({}) == trigger.RunOptions(planner="", demo=False, poke_interval_s=60,
                                                         approval_timeout_minutes=None, approve_with="airflow")
    chosen = trigger.run_options({"demo": True, "poke_interval_s": 2, "approve_with": "cli", "place": "x"})
    assert chosen.demo and chosen.poke_interval_s == 2 and chosen.approve_with == "cli"
    with pytest.raises(InvalidInput, match="poke_interval_s"):
        trigger.run_options({"poke_interval_s": 0})
    with pytest.raises(InvalidInput, match="approve_with"):
        trigger.run_options({"approve_with": "email"})


def test_a_moment_reads_in_the_forces_time_zone(tmp_path):
    settings = Settings(home=tmp_path)
    assert trigger.in_force_time(settings, datetime(2026, 7, 1, 8, 30, tzinfo=UTC)) == \
        "01/07/2026 09:30 BST (Europe/London)"
    assert trigger.in_force_time(settings, datetime(2026, 1, 5, 18, 0, tzinfo=UTC)) == \
        "05/01/2026 18:00 GMT (Europe/London)"
