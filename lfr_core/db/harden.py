"""Who may change what in the database, set by an administrator, not by the application.

The platform's tables belong to `lfr_owner` and the audit log to `lfr_audit`, two roles that cannot log
in; the application's login (`settings.db.user`) owns nothing. It reads and writes the platform's tables,
reads the audit log, and appends to it only through `audit.append`, a SECURITY DEFINER function with a
pinned search_path that takes the chain lock, numbers the row and computes its hash itself. So the
application's own credentials cannot disable the audit triggers, update, delete, truncate, drop or
re-own the log, or write a row with a forged sequence or predecessor (tests/audit/test_audit_roles.py).
A database superuser still can; the signed checkpoints (lfr_core/audit/checkpoints.py) show it.

Run with a superuser connection: after the migrations (`prepare` before them moves what an older
installation let the application own).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row, scalar_row

from lfr_core.audit.log import CHAIN_LOCK_KEY, GENESIS_HASH
from lfr_core.config import Settings
from lfr_core.db.migrate import Migration

OWNER_ROLE = "lfr_owner"
AUDIT_ROLE = "lfr_audit"
# Group roles of people (lfr_core/identity/people.py) and of the platform's own service logins.
PERSON_ROLE = "lfr_person"
SYSTEM_ROLE = "lfr_system"
PEOPLE_ROLES = ("planner", "authoriser", "operator", "admin", "auditor")
# Who may change what: one file per context, applied in the order of their names (lfr_core/db/policy/).
POLICY = resources.files("lfr_core.db").joinpath("policy")
# The only search_path a function of the platform may run with: the catalog first, the session's TEMP
# schema named last (unnamed, it is searched first for tables, and a TEMP pg_roles would answer for the
# catalog), nothing a person can create in. Every other object is named with its schema.
SAFE_SEARCH_PATH = "search_path=pg_catalog, pg_temp"


def unsafe_functions(conn: psycopg.Connection[Any]) -> list[DictRow]:
    """The platform's functions (schemas public and audit, extensions' own aside) that do not pin
    SAFE_SEARCH_PATH."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT p.oid::regprocedure::text AS function, p.proconfig AS config
               FROM pg_catalog.pg_proc AS p JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace
               WHERE n.nspname IN ('public', 'audit')
                 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend AS d
                                 WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
                 AND NOT coalesce(%s = ANY (p.proconfig), false)
               ORDER BY 1""", (SAFE_SEARCH_PATH,)).fetchall()


def _ensure_role(conn: psycopg.Connection[Any], role: str) -> None:
    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))


def prepare(conn: psycopg.Connection[Any], app_user: str, database: str) -> None:
    """Owner roles exist; the database and anything the application login still owns go to `lfr_owner`.
    Migrations then run as `SET ROLE lfr_owner`."""
    with conn.transaction():
        for role in (OWNER_ROLE, AUDIT_ROLE, PERSON_ROLE, SYSTEM_ROLE, *(f"lfr_{r}" for r in PEOPLE_ROLES)):
            _ensure_role(conn, role)
        # lfr_owner adds people (public.lfr_add_person, SECURITY DEFINER): it may create login roles and hand
        # out the group roles, nothing more; it still cannot log in.
        conn.execute(sql.SQL("ALTER ROLE {} CREATEROLE").format(sql.Identifier(OWNER_ROLE)))
        for group in (PERSON_ROLE, *(f"lfr_{r}" for r in PEOPLE_ROLES)):
            conn.execute(sql.SQL("GRANT {} TO {} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE")
                         .format(sql.Identifier(group), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(SYSTEM_ROLE), sql.Identifier(app_user)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("REASSIGN OWNED BY {} TO {}").format(sql.Identifier(app_user), sql.Identifier(OWNER_ROLE)))
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(OWNER_ROLE)))


APPEND_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit.append(p_occurred_at text, p_actor text, p_role text, p_action text,
                                        p_object_type text, p_object_id text, p_details jsonb,
                                        p_details_sha256 text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_hash text;
    v_when timestamptz := p_occurred_at::timestamptz;
BEGIN
    -- The row's time is the caller's (it is hashed as written), but it cannot be backdated or postdated.
    IF abs(extract(epoch FROM v_when - clock_timestamp())) > 300 THEN
        RAISE EXCEPTION 'audit row time % is more than 5 minutes from the server clock', p_occurred_at;
    END IF;
    -- Rows are written in the acting person's own name and in a role they hold (public.lfr_holds,
    -- lfr_core/db/policy/); only the platform's service logins write as 'system'.
    IF p_role = 'system' THEN
        IF NOT public.lfr_holds('system') THEN
            RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
                MESSAGE = format('%s may not write the audit log as the platform', public.lfr_actor());
        END IF;
    ELSIF p_actor IS DISTINCT FROM public.lfr_actor() OR NOT public.lfr_holds(p_role) THEN
        RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not write the audit log as %s (%s)', public.lfr_actor(), p_actor, p_role);
    END IF;
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    SELECT seq, row_hash INTO v_seq, v_prev FROM audit.audit_log ORDER BY seq DESC LIMIT 1;
    v_seq := coalesce(v_seq, 0) + 1;
    v_prev := coalesce(v_prev, '{GENESIS_HASH}');
    v_hash := encode(sha256(convert_to(concat_ws(chr(31), v_prev, v_seq::text, p_occurred_at, p_actor, p_role,
                                                 p_action, p_object_type, p_object_id, p_details_sha256), 'UTF8')), 'hex');
    INSERT INTO audit.audit_log (seq, occurred_at, actor, role, action, object_type, object_id, details,
                                 details_sha256, prev_hash, row_hash)
    VALUES (v_seq, v_when, p_actor, p_role, p_action, p_object_type, p_object_id, p_details, p_details_sha256,
            v_prev, v_hash);
    RETURN v_hash;
END $$
"""


def seal(conn: psycopg.Connection[Any], app_user: str, database: str) -> None:
    """After the migrations: the audit log in its own schema owned by `lfr_audit`, appended to only through
    `audit.append`; the application login gets data rights on the platform's tables and nothing more."""
    app, owner, auditor = (sql.Identifier(r) for r in (app_user, OWNER_ROLE, AUDIT_ROLE))
    with conn.transaction():
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS audit AUTHORIZATION {}").format(auditor))
        with conn.cursor(row_factory=scalar_row) as cur:
            in_public = cur.execute("SELECT to_regclass('public.audit_log')").fetchone() is not None
        if in_public:
            conn.execute("ALTER TABLE public.audit_log SET SCHEMA audit")
            conn.execute("ALTER FUNCTION public.audit_log_refuse_change() SET SCHEMA audit")
        conn.execute(sql.SQL("ALTER TABLE audit.audit_log OWNER TO {}").format(auditor))
        conn.execute(sql.SQL("ALTER FUNCTION audit.audit_log_refuse_change() OWNER TO {}").format(auditor))
        conn.execute("ALTER FUNCTION audit.audit_log_refuse_change() SET search_path = pg_catalog, pg_temp")
        conn.execute(APPEND_FUNCTION)
        conn.execute(sql.SQL("ALTER FUNCTION audit.append(text, text, text, text, text, text, jsonb, text) OWNER TO {}")
                     .format(auditor))
        conn.execute("REVOKE ALL ON SCHEMA audit FROM PUBLIC")
        conn.execute("REVOKE ALL ON ALL TABLES IN SCHEMA audit FROM PUBLIC")
        conn.execute("REVOKE ALL ON FUNCTION audit.append(text, text, text, text, text, text, jsonb, text) FROM PUBLIC")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA audit TO {}").format(app))
        conn.execute(sql.SQL("GRANT SELECT ON audit.audit_log TO {}").format(app))
        conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION audit.append(text, text, text, text, text, text, jsonb, text) "
                             "TO {}").format(app))
        # The platform's tables: data, not structure. New tables made by later migrations (as lfr_owner)
        # get the same rights by default.
        conn.execute(sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(app))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(app))
        conn.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(app))
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                             "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}").format(owner, app))
        conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                             "GRANT USAGE, SELECT ON SEQUENCES TO {}").format(owner, app))
        # The schema's history and the lifecycles (public.state_transitions) are the owner's to write.
        for table in ("schema_migrations", "state_transitions"):
            conn.execute(sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {} FROM {}")
                         .format(sql.Identifier(table), app))
        conn.execute(sql.SQL("GRANT SELECT ON audit.audit_log TO {}").format(sql.Identifier(PERSON_ROLE)))
        for grantee in (PERSON_ROLE, OWNER_ROLE):  # lfr_owner: for lfr_add_person's audit row
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA audit TO {}").format(sql.Identifier(grantee)))
            conn.execute(sql.SQL("GRANT EXECUTE ON FUNCTION audit.append(text, text, text, text, text, text, jsonb, "
                                 "text) TO {}").format(sql.Identifier(grantee)))
        conn.execute(sql.SQL("ALTER DATABASE {} SET search_path = \"$user\", public, audit").format(sql.Identifier(database)))
        # Who may change what (triggers, row-level security, the people's table rights), as the tables' owner.
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(owner))
        for part in sorted((p for p in POLICY.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name):
            conn.execute(part.read_text())
        unsafe = unsafe_functions(conn)
        if unsafe:
            raise RuntimeError(f"functions without `{SAFE_SEARCH_PATH}`: {', '.join(f['function'] for f in unsafe)}")


def migrate_with_roles(settings: Settings) -> list[Migration]:
    """Apply pending migrations as `lfr_owner` through an administrator's connection, then seal.

    Without one (an external database whose administrator has not given `db.admin_dsn`), migrations run as
    the application's login, as before this hardening: `lfr services status` says so."""
    from lfr_core.db.connection import admin_dsn, connect
    from lfr_core.db.migrate import migrate

    dsn = admin_dsn(settings)
    if dsn is None:
        with connect(settings) as conn:
            return migrate(conn)
    with psycopg.connect(dsn, row_factory=dict_row) as admin:
        prepare(admin, settings.db.user, settings.db.name)
        with admin.transaction():
            admin.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(OWNER_ROLE)))
        applied = migrate(admin)
        with admin.transaction():
            admin.execute("RESET ROLE")
        seal(admin, settings.db.user, settings.db.name)
    return applied
