"""No login of the platform can touch the audit log, the application's own nor any person's (an admin's
included): no trigger switched off, no row updated, deleted or truncated, no table dropped or re-owned, no
append function replaced, no row written past `audit.append`; and the application owns neither the
database nor a schema."""

from __future__ import annotations

import psycopg
import pytest

from lfr_core.audit import log as audit
from lfr_core.db.connection import connect
from lfr_core.identity import sessions
from tests.conftest import PASSWORD

ATTEMPTS = [
    "ALTER TABLE audit_log DISABLE TRIGGER USER",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "UPDATE audit_log SET actor = 'mallory'",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "DROP TABLE audit_log",
    "ALTER TABLE audit_log OWNER TO CURRENT_USER",
    "ALTER TABLE audit_log RENAME TO audit_log_old",
    "DROP SCHEMA audit CASCADE",
    "CREATE OR REPLACE FUNCTION audit.append(text, text, text, text, text, text, jsonb, text) RETURNS text "
    "LANGUAGE sql AS $$ SELECT 'x' $$",
    "INSERT INTO audit_log SELECT seq + 1000000, occurred_at, 'mallory', role, action, object_type, object_id,"
    " details, details_sha256, prev_hash, row_hash || 'x' FROM audit_log ORDER BY seq DESC LIMIT 1",
    "SET ROLE lfr_audit",
    "SET ROLE lfr_owner",
    "CREATE TABLE public.mine (x int)",
    "ALTER TABLE deployments DISABLE TRIGGER ALL",
    "ALTER TABLE alerts DISABLE ROW LEVEL SECURITY",
    "DROP POLICY alerts_assigned_operator ON alerts",
    "SET ROLE lfr_system",
]


@pytest.mark.parametrize("statement", ATTEMPTS)
def test_the_application_login_is_refused(services, statement):
    with connect(services) as conn:
        assert conn.execute("SELECT current_user AS u").fetchone()["u"] == services.db.user
        if statement == "SET ROLE lfr_system":
            return  # the application's login is the platform: it holds lfr_system
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)


@pytest.mark.parametrize("person", ["ada.admin", "aud.auditor", "olly.operator"])
def test_a_persons_login_is_refused(services, person):
    for statement in ATTEMPTS:
        with (psycopg.connect(sessions.person_dsn(services, person, PASSWORD)) as conn,
              pytest.raises(psycopg.errors.InsufficientPrivilege)):
            conn.execute(statement)


def test_it_owns_nothing_and_appends_only_through_the_function(services):
    with connect(services) as conn:
        owned = conn.execute(
            """SELECT (SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user)
                    + (SELECT count(*) FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = current_user)
                    + (SELECT count(*) FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = current_user)
                    AS n""").fetchone()["n"]
        assert owned == 0
        owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'").fetchone()["tableowner"]
        assert owner == "lfr_audit"
        login = conn.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'lfr_audit'").fetchone()["rolcanlogin"]
        assert login is False
        with conn.transaction():
            row_hash = audit.append(conn, actor="lfr-system", role="system", action="test.append", object_type="test",
                                    object_id="roles", details={"ok": True})
        last = conn.execute("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        assert last["row_hash"] == row_hash and audit.verify(conn).ok  # the function's hash is the one verify computes
        with pytest.raises(psycopg.errors.RaiseException, match="server clock"), conn.transaction():
            conn.execute("SELECT audit.append('2020-01-01T00:00:00+00:00', 'lfr-system', 'system', 'backdated', 't', 'x',"
                         " '{}'::jsonb, 'x')")
