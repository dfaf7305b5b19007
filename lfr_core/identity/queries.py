"""The identity context's SQL (issue 26 item 1): the only module that reads or writes revoked_tokens, reads who
is a person of the platform from PostgreSQL's catalog (a person is a login role), and takes on a person's role.
Each function asks one thing and returns records or scalars; writes run inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row, scalar_row

from lfr_core.db.harden import PEOPLE_ROLES, PERSON_ROLE
from lfr_core.identity.model import Login

# -- people: login roles, members of lfr_person and of the group roles of what they do ----------------------


def add_person(conn: psycopg.Connection[Any], name: str, roles: list[str], scram_verifier: str) -> None:
    """Through the SECURITY DEFINER function that also writes the audit row; needs an admin."""
    conn.execute("SELECT public.lfr_add_person(%s, %s, %s)", (name, roles, scram_verifier))


def disable_person(conn: psycopg.Connection[Any], name: str) -> None:
    conn.execute("SELECT public.lfr_disable_person(%s)", (name,))


def roles_held(conn: psycopg.Connection[Any], name: str) -> set[str]:
    """The platform roles (PEOPLE_ROLES) a member of lfr_person holds; none for a superuser, whom PostgreSQL
    reports as a member of every role."""
    with conn.cursor(row_factory=scalar_row) as cur:
        rows = cur.execute(
            """SELECT substr(g.rolname, 5) FROM pg_catalog.pg_roles AS g, pg_catalog.pg_roles AS p
               WHERE p.rolname = %s AND NOT p.rolsuper AND g.rolname = ANY(%s)
                 AND pg_catalog.pg_has_role(p.oid, g.oid, 'USAGE') AND pg_catalog.pg_has_role(p.oid, %s, 'USAGE')""",
            (name, [f"lfr_{r}" for r in PEOPLE_ROLES], PERSON_ROLE)).fetchall()
    return {str(role) for role in rows}


def may_sign_in(conn: psycopg.Connection[Any], name: str) -> bool:
    """A login role in lfr_person, not disabled nor expired, neither a superuser nor exempt from row-level
    security."""
    with conn.cursor(row_factory=scalar_row) as cur:
        row = cur.execute(
            """SELECT 1 FROM pg_catalog.pg_roles AS p
               WHERE p.rolname = %s AND p.rolcanlogin AND NOT p.rolsuper AND NOT p.rolbypassrls
                 AND (p.rolvaliduntil IS NULL OR p.rolvaliduntil > pg_catalog.now())
                 AND pg_catalog.pg_has_role(p.oid, %s, 'USAGE')""", (name, PERSON_ROLE)).fetchone()
    return row is not None


def may_sign_in_holding(conn: psycopg.Connection[Any], role: str) -> list[str]:
    """The names of the people who may sign in now (as `may_sign_in` decides) and hold this platform role."""
    with conn.cursor(row_factory=scalar_row) as cur:
        rows = cur.execute(
            """SELECT p.rolname FROM pg_catalog.pg_roles AS p
               WHERE p.rolcanlogin AND NOT p.rolsuper AND NOT p.rolbypassrls
                 AND (p.rolvaliduntil IS NULL OR p.rolvaliduntil > pg_catalog.now())
                 AND pg_catalog.pg_has_role(p.oid, %s, 'USAGE') AND pg_catalog.pg_has_role(p.oid, %s, 'USAGE')
               ORDER BY p.rolname""", (PERSON_ROLE, f"lfr_{role}")).fetchall()
    return [str(name) for name in rows]


def logins(conn: psycopg.Connection[Any]) -> list[Login]:
    """Every direct member of lfr_person, by name."""
    with conn.cursor(row_factory=class_row(Login)) as cur:
        return cur.execute(
            """SELECT m.rolname AS name, m.rolcanlogin AS can_sign_in FROM pg_auth_members AS a
               JOIN pg_roles AS m ON m.oid = a.member WHERE a.roleid = %s::regrole ORDER BY m.rolname""",
            (PERSON_ROLE,)).fetchall()


def acting_name(conn: psycopg.Connection[Any]) -> str:
    """Who this connection acts for (`lfr_actor()`: the person whose role is set, else the login)."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return str(cur.execute("SELECT public.lfr_actor()").fetchone())


def set_local_role(conn: psycopg.Connection[Any], name: str) -> None:
    """Take on the person's database role until the transaction ends (only inside one)."""
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name)))


def reset_role(conn: psycopg.Connection[Any]) -> None:
    conn.execute("RESET ROLE")


# -- sign-out: the ids of revoked tokens, kept until the tokens expire --------------------------------------


def forget_expired_revocations(conn: psycopg.Connection[Any]) -> None:
    conn.execute("DELETE FROM public.revoked_tokens WHERE expires_at < now()")


def revoke_token(conn: psycopg.Connection[Any], token_id: str, expires_at: datetime) -> bool:
    """False when the id was already revoked."""
    with conn.cursor(row_factory=scalar_row) as cur:
        row = cur.execute("INSERT INTO public.revoked_tokens (jti, expires_at) VALUES (%s, %s) "
                          "ON CONFLICT (jti) DO NOTHING RETURNING jti", (token_id, expires_at)).fetchone()
    return row is not None


def is_revoked(conn: psycopg.Connection[Any], token_id: str) -> bool:
    with conn.cursor(row_factory=scalar_row) as cur:
        return cur.execute("SELECT 1 FROM public.revoked_tokens WHERE jti = %s", (token_id,)).fetchone() is not None
