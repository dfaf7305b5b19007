"""Issue 27 items 1 and 2: a deployment runs under a loaded policy pack, and the database enforces the pack's rules
under the acting person's own role. Direct SQL with a person's own login cannot plan a deployment outside its pack
(an unknown pack or use case, a window too long, categories the use case does not permit, no pack at all), change
the pack a deployment was planned under, change or forge a loaded pack, seal a list without the references its
pack requires, or put an entry of a category outside the use case on a list."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.types.json import Jsonb

from lfr_core.db.connection import connect
from tests.security.conftest import ATTACK_PLACE, a_version, direct, superuser

Denied = psycopg.errors.InsufficientPrivilege
PLAN = """INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                  authorising_officer, allowed_categories, threshold, created_by, policy_name,
                                  policy_version, use_case, location_rationale, dpia_ref, eia_ref)
          VALUES (%(place)s, 'p', 'b', 'INT-PACK', now() + interval '1 hour',
                  now() + interval '1 hour' + make_interval(hours => %(hours)s), 'ann.authoriser', %(categories)s, 0.4,
                  current_user, %(pack)s, %(version)s, %(use_case)s, %(rationale)s, %(dpia)s, %(eia)s)
          RETURNING id"""
APPROVE = ("UPDATE watchlist_versions SET state = 'approved', approved_by = current_user, approved_at = now(), "
           "criteria_sha256 = 'c' WHERE id = %s")


def plan(**changes) -> dict:
    return {"place": ATTACK_PLACE, "hours": 2, "categories": ["wanted_suspect"], "pack": "uk-app", "version": 2,
            "use_case": "crime_hotspot", "rationale": "wanted people seen here", "dpia": "D-1", "eia": "E-1",
            **changes}


def planned(settings, **changes) -> str:
    """A deployment planned by pat.planner by direct SQL, within the rules."""
    with direct(settings, "pat.planner") as conn:
        dep = str(conn.execute(PLAN, plan(**changes)).fetchone()["id"])
        conn.commit()
    return dep


@pytest.mark.parametrize(("changes", "refusal"), [
    ({"pack": "no-such-pack"}, "policy pack no-such-pack v2 is not loaded"),
    ({"version": 99}, "policy pack uk-app v99 is not loaded"),
    ({"use_case": "anything_goes"}, "use case anything_goes is not in policy pack uk-app v2"),
    ({"pack": "eu-ai-act", "version": 3, "use_case": "art5_1_h_iii", "hours": 13},
     "longer than policy pack eu-ai-act v3 allows"),
    ({"categories": ["missing_person"]}, "permits the categories wanted_by_court, wanted_suspect"),
    ({"pack": None, "version": None, "use_case": None, "rationale": None}, "names the policy pack it runs under"),
])
def test_a_planner_cannot_plan_outside_a_loaded_pack_by_direct_sql(services, changes, refusal):
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match=refusal):
        conn.execute(PLAN, plan(**changes))
    # The same plan within the pack's rules is accepted, so each refusal above is the rule's.
    assert planned(services)


def test_a_blank_location_rationale_is_refused(services):
    with direct(services, "pat.planner") as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(PLAN, plan(rationale="   "))


def test_the_pack_a_deployment_runs_under_never_changes(services):
    dep = planned(services)
    for change in ("policy_version = 1", "use_case = 'sought_persons'", "policy_name = 'eu-ai-act'",
                   "location_rationale = 'another'"):
        with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="plan is fixed once created"):
            conn.execute(f"UPDATE deployments SET {change} WHERE id = %s", (dep,))


def test_a_loaded_pack_is_never_changed_or_forged(services):
    # Nobody holds UPDATE or DELETE on the table; the guard refuses it all the same for a login that might.
    with direct(services, "ada.admin") as conn, pytest.raises(Denied, match="permission denied for table policy_packs"):
        conn.execute("UPDATE policy_packs SET content = content || '{\"max_window_hours\": 200}' "
                     "WHERE name = 'uk-app' AND version = 2")
    with direct(services, "ada.admin") as conn, pytest.raises(Denied, match="permission denied for table policy_packs"):
        conn.execute("DELETE FROM policy_packs WHERE name = 'uk-app'")
    # The platform's own login holds the table rights; the guard still refuses.
    with connect(services) as conn, pytest.raises(Denied, match="uk-app v2 was loaded and never changes"):
        conn.execute("UPDATE policy_packs SET content_sha256 = repeat('0', 64) WHERE name = 'uk-app' AND version = 2")
    with superuser(services) as admin:
        content = admin.execute("SELECT content FROM policy_packs WHERE name = 'uk-app' AND version = 2"
                                ).fetchone()["content"]
    content = {**content, "name": "forged", "version": 1}
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="permission denied for table policy_packs"):
        conn.execute("INSERT INTO policy_packs (name, version, content, content_sha256, loaded_by) "
                     "VALUES ('forged', 1, %s, repeat('0', 64), current_user)", (Jsonb(content),))
    with direct(services, "ada.admin") as conn, pytest.raises(Denied, match="not the hash of its content"):
        conn.execute("INSERT INTO policy_packs (name, version, content, content_sha256, loaded_by) "
                     "VALUES ('forged', 1, %s, repeat('0', 64), current_user)", (Jsonb(content),))
    with direct(services, "ada.admin") as conn, pytest.raises(Denied, match="in the name of"):
        conn.execute("INSERT INTO policy_packs (name, version, content, content_sha256, loaded_by) "
                     "VALUES ('forged', 1, %s, repeat('0', 64), 'someone.else')", (Jsonb(content),))


def test_a_list_is_not_sealed_without_the_references_its_pack_requires(services):
    dep = planned(services, eia=None)
    vid = a_version(services, dep, "draft")
    with direct(services, "ann.authoriser") as conn, pytest.raises(Denied, match="requires a reference to its eia"):
        conn.execute(APPROVE, (vid,))
    with direct(services, "pat.planner") as conn:
        conn.execute("UPDATE deployments SET eia_ref = 'EIA-9' WHERE id = %s", (dep,))
        conn.commit()
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="once recorded, never changes"):
        conn.execute("UPDATE deployments SET eia_ref = 'EIA-10' WHERE id = %s", (dep,))
    with direct(services, "ann.authoriser") as conn:
        conn.execute(APPROVE, (vid,))
        conn.commit()
    with superuser(services) as admin:
        assert admin.execute("SELECT state FROM watchlist_versions WHERE id = %s", (vid,)).fetchone()["state"] == "approved"
    # Sealed: the references are fixed now, even one the pack did not require.
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="references are fixed"):
        conn.execute("UPDATE deployments SET fria_ref = 'F-1' WHERE id = %s", (dep,))


def test_an_entry_outside_the_use_case_is_refused_by_direct_sql(services):
    dep = planned(services, use_case="missing_person_hotspot", categories=["missing_person"])
    # The administrator forges a category list wider than the use case: the use case still bounds the entries.
    with superuser(services) as admin:
        admin.execute("UPDATE deployments SET allowed_categories = '{missing_person,wanted_suspect}' WHERE id = %s",
                      (dep,))
    vid = a_version(services, dep, "draft")
    entry = ("INSERT INTO watchlist_entries (version_id, subject_ref, category, rationale, provenance, source_uri, "
             "status) VALUES (%s, %s, %s, 'r', 'custody', 's3://x/y.jpg', 'accepted')")
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="not authorised for deployment"):
        conn.execute(entry, (vid, "S-1", "wanted_by_court"))
    with direct(services, "pat.planner") as conn, pytest.raises(
            Denied, match="outside use case missing_person_hotspot of policy pack uk-app v2"):
        conn.execute(entry, (vid, "S-2", "wanted_suspect"))
    with direct(services, "pat.planner") as conn:
        conn.execute(entry, (vid, "S-3", "missing_person"))
        conn.commit()


def test_a_notice_is_withheld_only_with_a_recorded_reason(services):
    dep = planned(services)
    with direct(services, "pat.planner") as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(PLAN.replace("dpia_ref, eia_ref)", "dpia_ref, eia_ref, notice_withheld_reason)")
                         .replace("%(eia)s)", "%(eia)s, '  ')"), plan())
    # Nor is a notice withheld after the plan was made.
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="plan is fixed once created"):
        conn.execute("UPDATE deployments SET notice_withheld_reason = 'critical threat' WHERE id = %s", (dep,))
