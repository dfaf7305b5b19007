"""`lfr deployment show` takes the short id a person copies and prints the threshold in force (issue 31 item 8):
a unique start of the UUID finds the deployment, an ambiguous one exits 2 naming the matches, and the table says
at what threshold alerts are decided now (the live list's), not only what was planned."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, NotFound
from lfr_core.times import format_span
from tests.rows import _write, insert_deployment, insert_version
from tests.watchlist.test_cli import lfr


def deployment_with_id(dep_id: uuid.UUID) -> uuid.UUID:
    now = datetime.now(UTC)
    _write("""INSERT INTO deployments (id, place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                       authorising_officer, allowed_categories, threshold, created_by)
              VALUES (%s, 'Twin Street', 'p', 'b', %s, %s, %s, 'Supt Rows', %s, NULL, 'pc-rows')""",
           (dep_id, f"INT-{uuid.uuid4().hex[:8]}", now + timedelta(days=30), now + timedelta(days=30, hours=2),
            ["wanted_by_court"]))
    return dep_id


def test_a_unique_start_of_the_id_finds_the_deployment_and_an_ambiguous_one_names_the_matches(db, services):
    stem = uuid.uuid4().hex[:10]
    a = deployment_with_id(uuid.UUID(stem + "a" + "0" * 21))
    b = deployment_with_id(uuid.UUID(stem + "b" + "0" * 21))
    assert deployments.resolve_id(db, str(a)[:12]) == a and deployments.resolve_id(db, str(a)) == a
    with pytest.raises(InvalidInput) as e:
        deployments.resolve_id(db, stem[:8])
    assert str(a) in str(e.value) and str(b) in str(e.value)
    with pytest.raises(NotFound):
        deployments.resolve_id(db, "ffffffff-ffff")
    with pytest.raises(InvalidInput, match="at least its first 4"):
        deployments.resolve_id(db, "ab")


def test_show_prints_the_threshold_in_force_for_a_short_id(db, services, identities):
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(minutes=5), window_end=now + timedelta(hours=1),
                            status="live", place="Threshold Row")
    insert_version(db, dep, state="active", accepted=1, activated_at=now - timedelta(minutes=5), number=1)
    shown = lfr("deployment", "show", str(dep)[:8], actor="aud.auditor")
    assert shown.returncode == 0, shown.stderr
    assert "threshold in force" in shown.stdout and "0.3630 (list v1)" in shown.stdout
    # The window in the force's time zone, day first, the zone named (issue 31 item 8), not "2026-12-05 07:30 UTC".
    window = format_span(now - timedelta(minutes=5), now + timedelta(hours=1))
    assert window in shown.stdout and "UTC" not in shown.stdout
    stem = uuid.uuid4().hex[:10]
    twins = [deployment_with_id(uuid.UUID(stem + c + "0" * 21)) for c in "cd"]
    ambiguous = lfr("deployment", "show", stem[:8], actor="aud.auditor")
    assert ambiguous.returncode == 2 and all(str(t) in ambiguous.stderr for t in twins), ambiguous.stderr
