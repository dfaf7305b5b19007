"""Connections an attacker with ordinary access has: a person's own login (psql with their password), and the
database administrator's, for setting up states the rules would refuse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg.rows import dict_row

from lfr_core.db.connection import admin_dsn
from lfr_core.identity import sessions
from tests.conftest import PASSWORD

ATTACK_PLACE = "Attack Street"  # the place of every deployment these tests forge


def direct(settings, name: str) -> psycopg.Connection:
    """A plain SQL connection with a person's own credentials, as psql would make."""
    return psycopg.connect(sessions.person_dsn(settings, name, PASSWORD), row_factory=dict_row)


@contextmanager
def superuser(settings) -> Iterator[psycopg.Connection]:
    """The database administrator, autocommitting: for states the platform's rules refuse to create."""
    with psycopg.connect(admin_dsn(settings), row_factory=dict_row, autocommit=True) as conn:
        yield conn


def a_deployment(settings, *, status: str = "planned", starts_in_s: float = -3600, length_s: float = 7200,
                 operators: tuple[str, ...] = ()) -> str:
    """A deployment written as the administrator (by default inside its window), with these operators; its
    authorising officer is ann.authoriser, who answers for its list (lfr_answers_for)."""
    with superuser(settings) as conn:
        dep = conn.execute(
            """INSERT INTO deployments (place, purpose, legal_basis, intelligence_ref, window_start, window_end,
                                        authorising_officer, allowed_categories, threshold, created_by, status,
                                        cancel_reason)
               VALUES (%s, 'test', 'test', 'INT-X', now() + make_interval(secs => %s),
                       now() + make_interval(secs => %s), 'ann.authoriser', '{wanted_suspect}', 0.4, 'pat.planner', %s,
                       CASE WHEN %s = 'cancelled' THEN 'test' END)
               RETURNING id""", (ATTACK_PLACE, starts_in_s, starts_in_s + length_s, status, status)).fetchone()["id"]
        for name in operators:
            conn.execute("INSERT INTO deployment_staff (deployment_id, person, role, assigned_by) "
                         "VALUES (%s, %s, 'operator', 'pat.planner')", (dep, name))
    return str(dep)


def a_version(settings, deployment_id: str, state: str, *, built_by: str = "pat.planner",
              approved_by: str | None = "ann.authoriser", number: int = 1) -> str:
    """A watchlist version in `state` written as the administrator; a draft carries no approval."""
    approved_by = None if state == "draft" else approved_by
    with superuser(settings) as conn:
        return str(conn.execute(
            """INSERT INTO watchlist_versions (deployment_id, version, state, built_by, manifest_uri, manifest_sha256,
                     detector, embedder, embedder_sha256, embedding_dim, threshold, entries_total, entries_accepted,
                     entries_rejected, approved_by, approved_at, criteria_sha256)
               VALUES (%s, %s, %s, %s, 's3://lfr-sources/m.csv', 'm', '{}', '{}', 'e', 128, 0.4, 1, 1, 0, %s,
                       CASE WHEN %s::text IS NULL THEN NULL ELSE now() END,
                       CASE WHEN %s::text IS NULL THEN NULL ELSE 'c' END)
               RETURNING id""",
            (deployment_id, number, state, built_by, approved_by, approved_by, approved_by)).fetchone()["id"])


@pytest.fixture(scope="module", autouse=True)
def attack_rows_retired(services) -> Iterator[None]:
    """The states these tests forge (a list "approved" by its builder, inside its window) are ones the platform
    rightly refuses to act on; once a module is done they are retired (cancelled, purged) so that another
    test's sweep over every deployment does not trip on them."""
    yield
    with superuser(services) as conn, conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")  # a clean-up, not a decision to audit
        conn.execute("""UPDATE watchlist_versions SET state = 'purged' WHERE deployment_id IN (
                            SELECT id FROM deployments WHERE place = %s)""", (ATTACK_PLACE,))
        conn.execute("UPDATE deployments SET status = 'cancelled', cancel_reason = 'test' WHERE place = %s",
                     (ATTACK_PLACE,))
