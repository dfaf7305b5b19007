"""Round trips through the real embedded PostgreSQL+pgvector: an HNSW cosine query, and migrations that change
nothing when applied twice and that the application's own login may not apply."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row

from lfr_core.db.connection import admin_dsn, connect
from lfr_core.db.harden import migrate_with_roles
from lfr_core.db.migrate import applied_migrations, available_migrations, migrate


def test_pgvector_round_trip_with_hnsw_cosine_query(services):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(200, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # As the database administrator: no login of the platform may create tables, TEMP ones included.
    with psycopg.connect(admin_dsn(services), row_factory=dict_row) as conn:
        register_vector(conn)
        conn.execute("CREATE TEMP TABLE probe (id int PRIMARY KEY, v vector(16))")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO probe VALUES (%s, %s)", [(i, v) for i, v in enumerate(vectors)])
        conn.execute("CREATE INDEX ON probe USING hnsw (v vector_cosine_ops)")
        query = vectors[42] + 0.01 * rng.normal(size=16).astype(np.float32)
        plan = conn.execute(
            "EXPLAIN SELECT id FROM probe ORDER BY v <=> %s LIMIT 1", (query,)
        ).fetchall()
        conn.execute("SET LOCAL enable_seqscan = off")
        row = conn.execute("SELECT id, v <=> %s AS dist FROM probe ORDER BY v <=> %s LIMIT 1", (query, query)).fetchone()
        assert row["id"] == 42
        assert row["dist"] < 0.01
        stored = conn.execute("SELECT v FROM probe WHERE id = 7").fetchone()["v"]
        np.testing.assert_allclose(stored.to_numpy(), vectors[7], rtol=1e-6)
        assert plan  # the query planned against the temp table


def test_migrations_applied_twice_change_nothing(services):
    with connect(services) as conn:
        before = applied_migrations(conn)
        tables = conn.execute("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").fetchone()["n"]
        conn.rollback()
        assert migrate_with_roles(services) == []  # as the schema's owner, through the administrator's login
        assert applied_migrations(conn) == before
        assert set(before) == {m.version for m in available_migrations()}
        assert conn.execute("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").fetchone()["n"] == tables
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            migrate(conn)  # the application's own login may not change the schema
