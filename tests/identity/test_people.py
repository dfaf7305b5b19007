"""People, not flags: every command runs as the signed-in person in the roles the database gives them,
and the database refuses the rest even to a direct SQL connection with that person's credentials."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from lfr_core.config import get_settings
from lfr_core.deployments import service as deployments
from lfr_core.errors import Refused
from lfr_core.identity import people, sessions
from lfr_core.identity.model import Actor
from lfr_core.watchlist import lifecycle
from lfr_core.watchlist.build import build_version
from lfr_ops.cli.main import app
from tests.conftest import (
    ADMIN,
    AUTHORISER,
    PASSWORD,
    PLANNER,
    RECORD_ARGS,
    make_deployment,
    signed_in_env,
    subject_rows,
)
from tests.rows import insert_alert, insert_deployment, insert_version

ROLES = {"planner": "pat.planner", "authoriser": "ann.authoriser", "operator": "olly.operator", "admin": "ada.admin",
         "auditor": "aud.auditor"}
NOWHERE = str(uuid.UUID(int=0))
EVERYONE = set(ROLES)

# Every CLI command that reads or changes the platform's data, and the roles that may run it. Ids that do
# not exist keep the matrix free of side effects: a role's check comes before any lookup, so an allowed
# role gets "not found" (or succeeds) and any other role is refused.
MATRIX: list[tuple[list[str], set[str]]] = [
    (["deployment", "create", *RECORD_ARGS, "--place", "x", "--purpose", "x", "--legal-basis", "x", "--intelligence-ref", "x",
      "--start", "2020-01-01T10:00:00+0000", "--end", "2020-01-01T11:00:00+0000", "--authorising-officer", "x"],
     {"planner", "admin"}),
    (["deployment", "show", NOWHERE], EVERYONE),
    (["deployment", "list"], EVERYONE),
    (["deployment", "assign", NOWHERE, "--person", "olly.operator"], {"planner", "admin"}),
    (["deployment", "cancel", NOWHERE, "--reason", "matrix"], {"planner", "admin"}),
    (["watchlist", "build", "--deployment", NOWHERE, "--manifest", "/nowhere.csv"], {"planner", "admin"}),
    (["watchlist", "show", NOWHERE], EVERYONE),
    (["watchlist", "diff", NOWHERE, NOWHERE], EVERYONE),
    (["watchlist", "history", "SUBJ-nobody"], EVERYONE),
    (["watchlist", "approve", NOWHERE], {"authoriser"}),
    (["watchlist", "activate", NOWHERE], {"operator", "admin"}),
    (["watchlist", "expire", NOWHERE], {"operator", "admin"}),
    (["watchlist", "purge", NOWHERE, "--reason", "matrix"], {"admin"}),
    (["alert", "list", "--deployment", NOWHERE, "--reason", "role matrix check"], {"operator", "admin", "auditor"}),
    (["alert", "adjudicate", NOWHERE, "confirmed"], {"operator", "admin"}),
    (["alert", "hold", NOWHERE, "--reason", "matrix"], {"admin"}),
    (["alert", "release", NOWHERE, "--reason", "matrix"], {"admin"}),
    (["apikey", "create", "--name", "cam-matrix", "--deployment", NOWHERE], {"admin"}),
    (["apikey", "list"], {"admin"}),
    (["apikey", "revoke", "0123456789abcdef"], {"admin"}),
    (["person", "list"], EVERYONE),
    (["person", "disable", "nobody.at.all"], {"admin"}),
    (["audit", "verify"], EVERYONE),
    (["audit", "export", "--type", "none"], EVERYONE),
    (["whoami"], EVERYONE),
]


def run_as(name: str | None, args: list[str], stdin: str | None = None):
    """The CLI in this process, signed in as `name` (or not at all), with a claimed admin role in the
    environment that must change nothing."""
    env = {"LFR_ROLE": "admin", "LFR_ACTOR": "ada.admin"}
    env.update(signed_in_env(get_settings(), name) if name else {"LFR_IDENTITY__SESSION_FILE": "/nonexistent/s.json"})
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, env=env, input=stdin)
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_command_against_every_role(services, role):
    wrong = []
    for args, allowed in MATRIX:
        result = run_as(ROLES[role], args)
        refused = result.exit_code == 3 and "needs the role" in result.output
        if refused == (role in allowed) or (role in allowed and result.exit_code not in (0, 2, 3)):
            wrong.append(f"{' '.join(args[:2])}: exit {result.exit_code}: {result.output.strip()[-300:]}")
    assert not wrong, "\n".join(wrong)


def test_without_signing_in_nothing_runs_whatever_the_environment_claims(services):
    for args, _ in MATRIX:
        result = run_as(None, args)
        assert result.exit_code == 3 and "not signed in" in result.output, (args, result.output)


def test_login_checks_the_password_and_whoami_names_the_person(services, tmp_path):
    session = tmp_path / "session.json"
    env = {"LFR_IDENTITY__SESSION_FILE": str(session)}
    get_settings.cache_clear()
    wrong = CliRunner().invoke(app, ["login", "ann.authoriser", "--password-stdin"], env=env, input="guess\n")
    assert wrong.exit_code == 3 and "wrong name or password" in wrong.output and not session.exists()
    right = CliRunner().invoke(app, ["login", "ann.authoriser", "--password-stdin", "--json"], env=env,
                               input=PASSWORD + "\n")
    assert right.exit_code == 0, right.output
    assert oct(session.stat().st_mode & 0o777) == "0o600"
    get_settings.cache_clear()
    who = CliRunner().invoke(app, ["whoami", "--json"], env={**env, "LFR_ACTOR": "ada.admin", "LFR_ROLE": "admin"})
    assert who.exit_code == 0 and '"name": "ann.authoriser"' in who.output and '"roles": ["authoriser"]' in who.output
    assert CliRunner().invoke(app, ["logout"], env=env).exit_code == 0 and not session.exists()
    get_settings.cache_clear()


def test_an_admin_adds_and_disables_people_and_it_is_audited(services, db):
    name = f"new.{uuid.uuid4().hex[:8]}"
    added = run_as("ada.admin", ["person", "add", name, "--role", "operator", "--json"])
    assert added.exit_code == 0, added.output
    password = added.output.strip().splitlines()[-1].split('"password": "')[1].split('"')[0]
    assert people.roles_of(db, name) == ["operator"]
    by_operator = run_as("olly.operator", ["person", "add", f"x{name}", "--role", "admin"])
    assert by_operator.exit_code == 3 and "needs the role admin" in by_operator.output
    sessions.connect_as(services, name, password).close()
    assert people.person(db, name).role == "operator"
    assert run_as("ada.admin", ["person", "disable", name]).exit_code == 0
    with pytest.raises(sessions.NotSignedIn):
        sessions.connect_as(services, name, password)
    # Their tokens stop working too: the services find no role for them, though the role itself remains.
    assert people.signed_in_roles(db, name) == [] and people.roles_of(db, name) == ["operator"]
    with pytest.raises(Refused, match="disabled"):
        people.person(db, name)
    actions = db.execute("SELECT action, actor, role FROM audit_log WHERE object_type = 'person' AND object_id = %s "
                         "ORDER BY seq", (name,)).fetchall()
    assert [(a["action"], a["actor"], a["role"]) for a in actions] == [("person.add", "ada.admin", "admin"),
                                                                       ("person.disable", "ada.admin", "admin")]
    db.rollback()


def direct(settings, name: str) -> psycopg.Connection:
    """A plain SQL connection with a person's own credentials, as psql would make."""
    return psycopg.connect(sessions.person_dsn(settings, name, PASSWORD), row_factory=dict_row)


@pytest.fixture()
def draft_by_both(db, services, store, face_engine, identities, stage):
    """A draft built by pam.both, who holds the planner and the authoriser roles."""
    deployment = make_deployment(db, services)
    version = build_version(db, store, face_engine, services, deployment_id=str(deployment["id"]),
                            manifest_uri=stage(subject_rows(identities, 1)), actor=Actor("pam.both", "planner"))
    return deployment, version


def test_the_builder_cannot_approve_under_any_name(db, services, draft_by_both):
    _, version = draft_by_both
    with pytest.raises(Refused, match="different authoriser"):
        lifecycle.approve(db, str(version["id"]), Actor("pam.both", "authoriser"))
    # Straight SQL with the builder's own credentials: in their name, or in an authoriser's.
    for approved_by in ("pam.both", "ann.authoriser"):
        with direct(services, "pam.both") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE watchlist_versions SET state = 'approved', approved_by = %s, approved_at = now() "
                         "WHERE id = %s", (approved_by, version["id"]))
    # The application's own login cannot approve either: approval needs an authoriser.
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="needs the role authoriser"), db.transaction():
        db.execute("UPDATE watchlist_versions SET state = 'approved', approved_by = 'ann.authoriser' WHERE id = %s",
                   (version["id"],))
    db.rollback()
    assert lifecycle.approve(db, str(version["id"]), AUTHORISER)["approved_by"] == "ann.authoriser"


def test_an_operators_credentials_cannot_write_what_the_cli_would_refuse(db, services, draft_by_both):
    deployment, version = draft_by_both
    db.commit()
    refused = [
        ("INSERT INTO watchlist_versions (deployment_id, version, built_by, manifest_uri, manifest_sha256, detector, "
         "embedder, embedder_sha256, embedding_dim, threshold, entries_total, entries_accepted, entries_rejected) "
         "VALUES (%s, 99, 'olly.operator', 'm', 'm', '{}', '{}', 'e', 128, 0.4, 0, 0, 0)", (deployment["id"],)),
        ("UPDATE watchlist_versions SET state = 'approved', approved_by = 'olly.operator' WHERE id = %s",
         (version["id"],)),
        ("UPDATE watchlist_versions SET built_by = 'olly.operator' WHERE id = %s", (version["id"],)),
        ("DELETE FROM watchlist_entries WHERE version_id = %s", (version["id"],)),
        ("INSERT INTO api_keys (key_sha256, name, role, deployment_id) VALUES ('x', 'cam', 'camera', %s)",
         (deployment["id"],)),
        ("INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end, "
         "authorising_officer, allowed_categories, created_by) VALUES ('x', 'x', 'x', 'x', now(), now() + "
         "interval '1 hour', 'x', '{wanted_suspect}', 'olly.operator')", None),
        ("SELECT audit.append(now()::text, 'ada.admin', 'admin', 'forged', 't', 'x', '{}'::jsonb, 'x')", None),
        ("SELECT audit.append(now()::text, 'olly.operator', 'system', 'forged', 't', 'x', '{}'::jsonb, 'x')", None),
        ("SET ROLE \"ada.admin\"", None),
        ("SELECT public.lfr_add_person('mallory', ARRAY['admin'], 'SCRAM-SHA-256$4096:x$y:z')", None),
    ]
    for query, params in refused:
        with direct(services, "olly.operator") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(query, params)
    assert lifecycle.get_version(db, version["id"])["state"] == "draft"
    db.rollback()


def test_operators_see_only_the_alerts_of_deployments_they_are_assigned_to(db, services):
    now = datetime.now(UTC)
    dep = insert_deployment(db, window_start=now - timedelta(hours=1), window_end=now + timedelta(hours=1))
    alert = insert_alert(db, dep, insert_version(db, dep, state="active", accepted=1))
    deployments.assign(db, dep, "ivy.operator", "operator", PLANNER)
    for name, sees in (("ivy.operator", True), ("olly.operator", False), ("aud.auditor", True), ("pat.planner", False)):
        with direct(services, name) as conn:
            found = conn.execute("SELECT id FROM alerts WHERE id = %s", (alert,)).fetchall()
            assert bool(found) == sees, name
    with direct(services, "olly.operator") as conn:  # not visible, so not updatable either
        assert conn.execute("UPDATE alerts SET status = 'confirmed', adjudicated_by = 'olly.operator' WHERE id = %s",
                            (alert,)).rowcount == 0
    for change, why in (("legal_hold = true", "needs the role admin"),
                        ("status = 'confirmed', adjudicated_by = 'ada.admin'", "in the name of"),
                        ("score = 0.99", "never change")):
        with direct(services, "ivy.operator") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege, match=why):
            conn.execute(f"UPDATE alerts SET {change} WHERE id = %s", (alert,))
    assert ADMIN.name in [p["name"] for p in people.list_people(db)]
    db.rollback()


def test_a_run_acts_only_for_a_person_who_plans(services):
    """A DAG run acts for its triggering Airflow user: one who is not a person here, or not a planner, is
    refused before the manifest is even read."""
    from lfr_core.workflow import tasks as orchestration

    start = datetime.now(UTC) + timedelta(hours=1)
    conf = orchestration.deployment_conf(place="x", manifest_uri="s3://lfr-sources/staging/none/m.csv",
                                         planner="", window_start=start, window_end=start + timedelta(hours=1))
    with pytest.raises(Refused, match="not a person of this platform"):
        orchestration.create_deployment_from_params(services, conf, planner="admin")
    with pytest.raises(Refused, match="needs the role planner"):
        orchestration.create_deployment_from_params(services, conf, planner="olly.operator")
    with pytest.raises(Refused, match="needs the role planner"):
        orchestration.build_watchlist(services, NOWHERE, "s3://lfr-sources/staging/none/m.csv", "ann.authoriser", "k")
