"""Issue 27 item 5: the APP's watchlist rules, enforced by the database under the acting person's own role. Direct
SQL with a planner's own login cannot put a child on a list without the written rationale the pack's under-18 rule
requires, and an operator cannot activate a list built longer before its window than the pack's
max_list_age_hours allows."""

from __future__ import annotations

from datetime import UTC

import psycopg
import pytest

from tests.security.conftest import a_deployment, a_version, direct, superuser

Denied = psycopg.errors.InsufficientPrivilege
ENTRY = ("INSERT INTO watchlist_entries (version_id, subject_ref, category, rationale, provenance, source_uri, status, "
         "legal_basis, date_of_birth, age_band, under_18_rationale) "
         "VALUES (%s, %s, 'wanted_suspect', 'r', 'custody', 's3://x/y.jpg', 'accepted', 'PACE s.64A', %s, %s, %s)")
ACTIVATE = "UPDATE watchlist_versions SET state = 'active', activated_at = now() WHERE id = %s"


def _under_pack(settings, deployment_id: str, pack: str = "uk-app") -> None:
    """The deployment put under a loaded pack (as the administrator: the plan's own rules are tested elsewhere)."""
    with superuser(settings) as admin:
        admin.execute("UPDATE deployments SET policy_name = %s, use_case = 'crime_hotspot', "
                      "policy_version = (SELECT max(version) FROM policy_packs WHERE name = %s), "
                      "location_rationale = 'wanted people seen here' WHERE id = %s", (pack, pack, deployment_id))


def test_an_under_18_entry_without_a_rationale_is_refused_by_direct_sql(services):
    dep = a_deployment(services, starts_in_s=3600)
    _under_pack(services, dep)
    vid = a_version(services, dep, "draft")
    with superuser(services) as admin:
        start = admin.execute("SELECT window_start FROM deployments WHERE id = %s",
                              (dep,)).fetchone()["window_start"].astimezone(UTC)
    # Seventeen at the window's start, by date of birth; and by age band.
    child = start.date().replace(year=start.year - 17)
    with direct(services, "pat.planner") as conn, pytest.raises(
            Denied, match="S-CHILD is under 18 at the window's start; an under-18 entry needs a written rationale"):
        conn.execute(ENTRY, (vid, "S-CHILD", child, None, None))
    with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="S-BAND is under 18"):
        conn.execute(ENTRY, (vid, "S-BAND", None, "under_18", None))
    # Eighteen on the window's first day is an adult; a child with a rationale is accepted.
    with direct(services, "pat.planner") as conn:
        conn.execute(ENTRY, (vid, "S-ADULT", start.date().replace(year=start.year - 18), None, None))
        conn.execute(ENTRY, (vid, "S-CHILD", child, None, "missing and at risk; the court order M-1 names her"))
        conn.commit()
    with superuser(services) as admin:
        rows = admin.execute("SELECT subject_ref, under_18_rationale FROM watchlist_entries WHERE version_id = %s "
                             "ORDER BY subject_ref", (vid,)).fetchall()
    assert [(r["subject_ref"], r["under_18_rationale"] is not None) for r in rows] == [("S-ADULT", False),
                                                                                      ("S-CHILD", True)]
    # Nor is a child made an adult, or their rationale rewritten, afterwards (an admin may update entries, to purge).
    for change in ("age_band = '18_plus', date_of_birth = NULL", "under_18_rationale = 'another'"):
        with direct(services, "ada.admin") as conn, pytest.raises(Denied, match="build's and never change"):
            conn.execute(f"UPDATE watchlist_entries SET {change} WHERE version_id = %s AND subject_ref = 'S-CHILD'",
                         (vid,))


def test_a_blank_under_18_rationale_is_no_rationale(services):
    dep = a_deployment(services, starts_in_s=3600)
    _under_pack(services, dep)
    vid = a_version(services, dep, "draft")
    with direct(services, "pat.planner") as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(ENTRY, (vid, "S-BLANK", None, "under_18", "   "))


def test_a_pack_that_forbids_children_refuses_them_even_with_a_rationale(services):
    dep = a_deployment(services, starts_in_s=3600)
    _under_pack(services, dep)
    vid = a_version(services, dep, "draft")
    with superuser(services) as admin:  # a stand-in pack, forbidding children, loaded as the administrator
        admin.execute("""INSERT INTO policy_packs (name, version, content, content_sha256, loaded_by)
                         SELECT 'no-children', 1, content || '{"name": "no-children", "version": 1,
                                "under_18": {"allowed": false, "rationale_required": true}}', repeat('1', 64), 'test'
                         FROM policy_packs WHERE name = 'uk-app' AND version = 2 ON CONFLICT DO NOTHING""")
    try:
        _under_pack(services, dep, "no-children")
        with direct(services, "pat.planner") as conn, pytest.raises(Denied, match="does not allow children on a list"):
            conn.execute(ENTRY, (vid, "S-KID", None, "under_18", "a reason"))
    finally:  # other tests list the loaded packs
        _under_pack(services, dep)
        with superuser(services) as admin:
            admin.execute("DELETE FROM policy_packs WHERE name = 'no-children'")


def _approved_and_judged(settings, dep: str) -> str:
    """An approved version whose evidence an authoriser decided to seal anyway (the evidence rule is not under
    test here)."""
    vid = a_version(settings, dep, "approved")
    with superuser(settings) as admin:
        admin.execute("UPDATE watchlist_versions SET evidence_override_by = 'ann.authoriser', "
                      "evidence_override_reason = 'test', evidence_override_at = now() WHERE id = %s", (vid,))
    return vid


def test_a_list_too_old_at_activation_is_refused_by_direct_sql(services):
    dep = a_deployment(services, starts_in_s=-600, operators=("olly.operator",))
    _under_pack(services, dep)  # uk-app: max_list_age_hours = 24
    old = _approved_and_judged(services, dep)
    with superuser(services) as admin:
        admin.execute("UPDATE watchlist_versions SET built_at = (SELECT window_start FROM deployments WHERE id = %s) "
                      "- interval '25 hours' WHERE id = %s", (dep, old))
    with direct(services, "olly.operator") as conn, pytest.raises(
            Denied, match=r"more than 24 hours before the window opened .* \(policy pack uk-app v2\); build a fresh"):
        conn.execute(ACTIVATE, (old,))
    # The same list built 23 hours before the window goes live: the refusal above is the pack's age rule.
    with superuser(services) as admin:
        admin.execute("UPDATE watchlist_versions SET built_at = (SELECT window_start FROM deployments WHERE id = %s) "
                      "- interval '23 hours' WHERE id = %s", (dep, old))
    with direct(services, "olly.operator") as conn:
        assert conn.execute(ACTIVATE + " RETURNING state", (old,)).fetchone()["state"] == "active"
