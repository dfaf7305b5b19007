"""Issue 27 items 1 and 2: the policy packs (files, validation, `lfr policy list|show|load`) and the deployment
record planned under one (`lfr deployment create` refuses what the pack does not allow, with a clear message; a
list is not sealed without the references the pack requires; a changed pack is a new version and leaves a
deployment already approved under the version it was approved under)."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lfr_core.config import CATEGORIES
from lfr_core.deployments import policy, policy_store
from lfr_core.deployments import service as deployments
from lfr_core.errors import InvalidInput, NotFound, Refused
from tests.conftest import ADMIN, PLANNER, environment, subject_rows
from tests.security.conftest import a_version, direct, superuser
from tests.watchlist.test_cli import last_json, lfr

SHIPPED = policy.SHIPPED_DIR


def shipped(name: str) -> dict:
    return tomllib.loads((SHIPPED / f"{name}.toml").read_text())


# -- the pack files -------------------------------------------------------------------------------------------


def test_the_shipped_packs_are_valid_and_state_every_rule():
    uk, eu = policy.read_pack(SHIPPED / "uk-app.toml"), policy.read_pack(SHIPPED / "eu-ai-act.toml")
    assert [u.reference for u in uk.use_cases] == [f"Met LFR policy §{s}" for s in ("2.3(a)", "2.3(b)", "2.7(a)",
                                                                                   "2.7(b)", "2.9")]
    assert [u.id for u in eu.use_cases] == ["art5_1_h_i", "art5_1_h_ii", "art5_1_h_iii"]
    assert len(eu.use_case("art5_1_h_iii").offences) == 16  # Annex II
    assert uk.required_assessments == ["dpia", "eia"]
    assert eu.required_assessments == ["dpia", "eia", "fria", "registration"]
    assert eu.external_authorisation.required and eu.external_authorisation.urgency_hours == 24
    # Art 5(4): each use notified under the EU pack only; off leaves the content (and so the hash) as before.
    assert eu.notify_each_use and not uk.notify_each_use and "notify_each_use" not in uk.content()
    assert not uk.external_authorisation.required
    assert eu.two_person_verification and not uk.two_person_verification
    for pack in (uk, eu):
        assert {c for u in pack.use_cases for c in u.categories} <= set(CATEGORIES)
        assert pack.retention.alerts_days == 31 and pack.retention.use_log_days >= 183
        assert pack.threshold.floor_for("an-unknown-model") == pack.threshold.default_floor


@pytest.mark.parametrize(("change", "field"), [
    (lambda d: d.pop("max_window_hours"), "max_window_hours: Field required"),
    (lambda d: d.update(max_window_hours=-1), "max_window_hours: Input should be greater than 0"),
    (lambda d: d["use_cases"][0].update(categories=["everyone_of_interest"]), "use_cases.0.categories.0"),
    (lambda d: d["use_cases"].append(dict(d["use_cases"][0])), "use case ids must be unique: crime_hotspot"),
    (lambda d: d.update(required_assessments=["dpia", "horoscope"]), "required_assessments.1"),
    (lambda d: d["retention"].pop("alerts_days"), "retention.alerts_days: Field required"),
    (lambda d: d.update(use_cases=[]), "use_cases: List should have at least 1 item"),
    (lambda d: d.update(surprise=True), "surprise: Extra inputs are not permitted"),
])
def test_an_invalid_pack_is_refused_naming_the_field(change, field):
    data = shipped("uk-app")
    change(data)
    with pytest.raises(InvalidInput, match=f"policy pack where is invalid: .*{field}"):
        policy.parse_pack(data, "where")


def test_a_pack_file_is_named_after_its_pack_and_is_toml(tmp_path: Path):
    (tmp_path / "other.toml").write_text((SHIPPED / "uk-app.toml").read_text())
    with pytest.raises(InvalidInput, match="name: 'uk-app' must be the file's name"):
        policy.read_pack(tmp_path / "other.toml")
    (tmp_path / "broken.toml").write_text("name = ")
    with pytest.raises(InvalidInput, match="is not valid TOML"):
        policy.read_pack(tmp_path / "broken.toml")


def test_the_content_hash_ignores_comments_and_changes_with_a_rule(tmp_path: Path):
    text = (SHIPPED / "uk-app.toml").read_text()
    (tmp_path / "uk-app.toml").write_text("# a force's comment\n" + text)
    same = policy.read_pack(tmp_path / "uk-app.toml")
    assert same.sha256 == policy.read_pack(SHIPPED / "uk-app.toml").sha256
    (tmp_path / "uk-app.toml").write_text(text.replace("max_window_hours = 24", "max_window_hours = 20"))
    assert policy.read_pack(tmp_path / "uk-app.toml").sha256 != same.sha256


def test_policy_list_and_show_round_trip_as_json():
    listed = last_json(lfr("policy", "list", "--json"))
    assert [p["name"] for p in listed] == ["eu-ai-act", "uk-app"]
    for row in listed:
        shown = last_json(lfr("policy", "show", row["name"], "--json"))
        assert shown.pop("content_sha256") == row["content_sha256"]
        pack = policy.parse_pack(shown, "the show's JSON")
        assert pack == policy.read_pack(SHIPPED / f"{row['name']}.toml") and pack.sha256 == row["content_sha256"]
    unknown = lfr("policy", "show", "no-such-pack")
    assert unknown.returncode == 2 and "no policy pack 'no-such-pack'; packs: eu-ai-act, uk-app" in unknown.stderr


# -- the deployment record under a pack ---------------------------------------------------------------------------


def _create_args(start: datetime, hours: float, *extra: str) -> list[str]:
    return ["deployment", "create", "--place", "Pack Street", "--purpose", "p", "--legal-basis", "b",
            "--intelligence-ref", "INT-PACK", "--authorising-officer", "ann.authoriser",
            "--start", start.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "--end", (start + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S%z"), *extra, "--json"]


@pytest.mark.parametrize(("extra", "hours", "message"), [
    (("--policy", "no-such-pack", "--use-case", "x", "--location-rationale", "r"), 2,
     "policy pack no-such-pack is not loaded in the database; an admin loads it with `lfr policy load no-such-pack`"),
    (("--use-case", "anything_goes", "--location-rationale", "r"), 2,
     "use case 'anything_goes' is not in policy pack uk-app v2; choose one of: crime_hotspot, missing_person_hotspot"),
    (("--policy", "eu-ai-act", "--use-case", "art5_1_h_iii", "--location-rationale", "r"), 13,
     "is longer than policy pack eu-ai-act v3 allows (12 hours)"),
    (("--use-case", "crime_hotspot", "--location-rationale", "r", "--category", "missing_person"), 2,
     "use case crime_hotspot (Met LFR policy §2.3(a)) of policy pack uk-app v2 permits the categories "
     "wanted_by_court, wanted_suspect, risk_to_self_or_others; not missing_person"),
    (("--use-case", "crime_hotspot", "--location-rationale", "  "), 2, "location_rationale: Value error, must not be blank"),
])
def test_the_cli_refuses_a_deployment_outside_its_pack(services, extra, hours, message):
    result = lfr(*_create_args(datetime.now(UTC) + timedelta(hours=1), hours, *extra), actor="pat.planner")
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_a_deployment_records_its_pack_and_the_use_cases_categories(services):
    created = last_json(lfr(*_create_args(datetime.now(UTC) + timedelta(hours=1), 2, "--use-case",
                                          "missing_person_hotspot", "--location-rationale",
                                          "the missing person was seen at this station twice this week",
                                          "--dpia-ref", "DPIA-7"), actor="pat.planner"))
    assert (created["policy_name"], created["policy_version"], created["use_case"]) == (
        "uk-app", 2, "missing_person_hotspot")
    assert created["allowed_categories"] == ["missing_person", "risk_to_self_or_others"]
    assert (created["dpia_ref"], created["eia_ref"]) == ("DPIA-7", None)
    shown = lfr("deployment", "show", created["id"], actor="aud.auditor")
    assert "uk-app v2" in shown.stdout and "the missing person was seen" in shown.stdout


def test_approval_is_refused_until_the_pack_references_are_recorded(services):
    created = last_json(lfr(*_create_args(datetime.now(UTC) + timedelta(hours=1), 2, "--use-case", "crime_hotspot",
                                          "--location-rationale", "r", "--dpia-ref", "DPIA-8"), actor="pat.planner"))
    vid = a_version(services, created["id"], "draft")
    refused = lfr("watchlist", "approve", vid, actor="ann.authoriser")
    assert refused.returncode == 3
    assert "runs under policy pack uk-app v2, which requires a reference to its eia before approval" in refused.stderr
    added = last_json(lfr("deployment", "references", created["id"], "--eia-ref", "EIA-8", "--json",
                          actor="pat.planner"))
    assert added["eia_ref"] == "EIA-8"
    approved = last_json(lfr("watchlist", "approve", vid, "--json", actor="ann.authoriser"))
    assert approved["state"] == "approved"


def test_a_changed_pack_is_a_new_version_and_an_approved_deployment_keeps_its_own(services, db, tmp_path: Path):
    text = ((SHIPPED / "uk-app.toml").read_text().replace('name = "uk-app"', 'name = "force-own"')
            .replace("version = 2", "version = 1", 1))
    (tmp_path / "force-own.toml").write_text(text)
    with environment({"LFR_POLICY__PACKS_DIR": str(tmp_path)}):
        from lfr_core.config import get_settings

        settings = get_settings()
        loaded = last_json(lfr("policy", "load", "force-own", "--json", actor="ada.admin"))
        assert loaded["loaded"] is True and loaded["version"] == 1
        assert last_json(lfr("policy", "load", "force-own", "--json", actor="ada.admin"))["loaded"] is False
        refused = lfr("policy", "load", "force-own", actor="pat.planner")
        assert refused.returncode == 3 and "needs the role admin" in refused.stderr
        start = datetime.now(UTC) + timedelta(hours=1)
        spec = deployments.validate_spec({
            "place": "Own Street", "purpose": "p", "legal_basis": "b", "intelligence_ref": "INT-OWN",
            "window_start": start, "window_end": start + timedelta(hours=10), "authorising_officer": "ann.authoriser",
            "policy": "force-own", "use_case": "crime_hotspot", "location_rationale": "r", "dpia_ref": "D",
            "eia_ref": "E"}, settings)
        dep = deployments.create(db, spec, PLANNER, settings)
        vid = a_version(services, str(dep["id"]), "draft")
        with direct(services, "ann.authoriser") as conn:
            conn.execute("UPDATE watchlist_versions SET state = 'approved', approved_by = current_user, "
                         "approved_at = now(), criteria_sha256 = 'c' WHERE id = %s", (vid,))
            conn.commit()
        # The force shortens its longest window: the same version with other content is refused ...
        (tmp_path / "force-own.toml").write_text(text.replace("max_window_hours = 24", "max_window_hours = 8"))
        with pytest.raises(Refused, match="force-own v1 was loaded with different content"):
            policy_store.load_file(db, settings, "force-own", ADMIN)
        # ... and loaded as a new version, audited, which new deployments run under.
        (tmp_path / "force-own.toml").write_text(text.replace("max_window_hours = 24", "max_window_hours = 8")
                                                 .replace("version = 1", "version = 2", 1))
        assert policy_store.load_file(db, settings, "force-own", ADMIN).loaded
        after = deployments.get(db, dep["id"])
        assert (after["policy_name"], after["policy_version"]) == ("force-own", 1)
        kept = policy_store.of_deployment(db, after)
        assert kept is not None and kept.pack.max_window_hours == 24
        assert policy_store.loaded(db, "force-own").pack.max_window_hours == 8
        with pytest.raises(InvalidInput, match="longer than policy pack force-own v2 allows"):
            deployments.create(db, spec, PLANNER, settings)
        actions = db.execute("SELECT action, actor FROM audit.audit_log WHERE object_type = 'policy_pack' "
                             "AND object_id LIKE 'force-own%%' ORDER BY seq").fetchall()
        assert [tuple(a.values()) if isinstance(a, dict) else tuple(a) for a in actions] == [
            ("policy.load", "ada.admin"), ("policy.load", "ada.admin")]


def test_an_unknown_pack_is_not_found_in_files_or_database(services, db):
    with pytest.raises(NotFound, match="no policy pack 'nope'"):
        policy.pack_file(services, "nope")
    with pytest.raises(NotFound, match="policy pack nope v3 is not loaded"):
        policy_store.loaded(db, "nope", 3)


def test_the_approval_body_and_watchlist_show_carry_the_deployment_record(services):
    from lfr_core.workflow.approval import brief

    created = last_json(lfr(*_create_args(datetime.now(UTC) + timedelta(hours=1), 2, "--use-case", "crime_hotspot",
                                          "--location-rationale", "knife crime hotspot by the market",
                                          "--dpia-ref", "DPIA-9"), actor="pat.planner"))
    vid = a_version(services, created["id"], "draft")
    with superuser(services) as admin:  # the models a build records
        admin.execute("""UPDATE watchlist_versions SET detector = '{"name": "yunet"}',
                         embedder = '{"name": "sface", "version": "2021dec"}' WHERE id = %s""", (vid,))
    body = brief(services, vid)["body"]
    for line in ("**Policy pack:** uk-app v2 (UK: Met LFR policy and College of Policing APP)",
                 "**Use case:** Crime hotspot (Met LFR policy §2.3(a))",
                 "**Location rationale:** knife crime hotspot by the market", "**DPIA reference:** DPIA-9",
                 "**EIA reference:** MISSING: required by the pack before approval"):
        assert line in body
    assert "FRIA" not in body  # not required by uk-app, and none given
    shown = lfr("watchlist", "show", vid, actor="ann.authoriser")
    assert shown.returncode == 0, shown.stderr
    assert "use case: Crime hotspot (Met LFR policy §2.3(a))" in shown.stdout
    assert "eia reference: MISSING" in shown.stdout


def test_a_build_refuses_a_category_outside_the_use_case(services, identities, stage):
    created = last_json(lfr(*_create_args(datetime.now(UTC) + timedelta(hours=1), 2, "--use-case", "crime_hotspot",
                                          "--location-rationale", "r"), actor="pat.planner"))
    manifest = stage(subject_rows(identities, 2, category="missing_person"))
    refused = lfr("watchlist", "build", "--deployment", created["id"], "--manifest", manifest, actor="pat.planner")
    assert refused.returncode == 2, refused.stderr
    assert ("category 'missing_person' is not authorised for this deployment (its use case permits: "
            "risk_to_self_or_others, wanted_by_court, wanted_suspect)") in " ".join(refused.stderr.split())
    shown = last_json(lfr("deployment", "show", created["id"], "--json", actor="pat.planner"))
    assert shown["versions"] == []  # nothing was built
