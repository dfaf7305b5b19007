"""Issue 27 item 3 in Airflow: an approved list under a pack that requires external prior authorisation waits for it
before activation (`wait_for_authorisation_state`, what the DAG's wait_for_authorisation and its trigger look at),
and the approval's body says where the authorisation stands; real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from lfr_core.deployments import authorisation
from lfr_core.workflow import tasks as orchestration
from tests.conftest import AUTHORISER
from tests.security.conftest import a_version, attack_rows_retired  # noqa: F401 (the module's rows retired after it)
from tests.security.test_external_authorisation import a_deployment_under


def _line(db, dep: str) -> str:
    lines = authorisation.record_lines(db, uuid.UUID(dep))
    assert [label for label, _ in lines] == ["External authorisation"]
    return lines[0][1]


def test_an_approved_list_waits_for_the_authorisation_and_goes_once_it_is_granted(services, db):
    dep = a_deployment_under(services, "eu-ai-act")
    a_version(services, dep, "approved")
    assert orchestration.wait_for_authorisation_state(services, dep) is None
    assert not orchestration.authorisation_settled(services, dep)
    assert _line(db, dep).startswith("not yet authorised")
    authorisation.record_decision(db, uuid.UUID(dep), AUTHORISER, authority="Investigating judge, Lyon",
                                  authority_kind="judicial", decision_ref="ORD-2026-17", decided_on=date(2026, 12, 1),
                                  scope="this window only")
    assert orchestration.authorisation_settled(services, dep)
    assert orchestration.wait_for_authorisation_state(services, dep) == "granted"
    assert _line(db, dep) == ("authorised by Investigating judge, Lyon (judicial, ORD-2026-17, 2026-12-01, scope: this window "
                              f"only); recorded by {AUTHORISER.name}")


def test_an_urgent_start_ends_the_wait_and_the_body_gives_its_deadline(services, db):
    dep = a_deployment_under(services, "eu-ai-act")
    started = authorisation.urgent_start(db, uuid.UUID(dep), AUTHORISER, "imminent threat to life")
    assert orchestration.wait_for_authorisation_state(services, dep) == "urgent"
    line = _line(db, dep)
    assert line.startswith(f"urgent start by {AUTHORISER.name} (imminent threat to life), the authority's decision "
                           "due by ")
    from lfr_core.times import format_time

    assert format_time(started["deadline"], seconds=False) in line


def test_a_refusal_ends_the_wait_with_the_authoritys_reference(services, db):
    dep = a_deployment_under(services, "eu-ai-act")
    a_version(services, dep, "approved")
    authorisation.record_decision(db, uuid.UUID(dep), AUTHORISER, authority="Court X", authority_kind="judicial",
                                  decision_ref="REF-9", refused=True)
    assert orchestration.authorisation_settled(services, dep)
    with pytest.raises(orchestration.AuthorisationRefused, match=r"refused by Court X \(REF-9\)"):
        orchestration.wait_for_authorisation_state(services, dep)
    assert _line(db, dep).startswith("refused by Court X (REF-9)")


def test_the_wait_ends_with_the_window_and_a_pack_without_the_rule_does_not_wait(services, db):
    dep = a_deployment_under(services, "eu-ai-act")
    after = datetime.now(UTC) + timedelta(hours=2)  # the window ends an hour from now
    assert orchestration.wait_for_authorisation_state(services, dep, now=after) == "missing"
    assert orchestration.authorisation_settled(services, dep, now=after)
    uk = a_deployment_under(services, "uk-app")
    assert orchestration.wait_for_authorisation_state(services, uk) == "not_required"
    assert authorisation.record_lines(db, uuid.UUID(uk)) == []
