"""lfr_core/db/schema.sql is today's schema, whole: what the migrations, the policy files and the sealing give a
fresh database (issue 26 item 1). A change to any of them must come with the regenerated file, so a reviewer
sees its effect on the schema in the same diff.

To regenerate after a change: `LFR_WRITE_SCHEMA=1 pytest tests/db/test_schema.py`, then read the diff.
"""

from __future__ import annotations

import difflib
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from lfr_core.config import Settings
from lfr_core.db import schema
from lfr_core.db.connection import admin_dsn
from lfr_core.db.harden import migrate_with_roles


@pytest.fixture()
def fresh_database(services: Settings) -> Iterator[Settings]:
    """A new, empty database on the session's server, migrated and sealed as `lfr db migrate` does."""
    name = f"lfr_schema_{uuid.uuid4().hex[:8]}"
    dsn = admin_dsn(services)
    assert dsn is not None
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    fresh = services.model_copy(update={"db": services.db.model_copy(update={"name": name})})
    # As the local stack does for its database (lfr_ops/local_stack/postgres.py): the extension is the
    # administrator's to create, before the migrations.
    with psycopg.connect(admin_dsn(fresh) or "", autocommit=True) as admin:
        admin.execute("CREATE EXTENSION IF NOT EXISTS vector")
    try:
        migrate_with_roles(fresh)
        yield fresh
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_schema_sql_is_what_the_migrations_and_policies_make(fresh_database: Settings) -> None:
    dsn = admin_dsn(fresh_database)
    assert dsn is not None
    made = schema.dump(dsn).replace(fresh_database.db.name, "lfr")
    if os.environ.get("LFR_WRITE_SCHEMA") == "1":
        (schema.SOURCE_DIR / "schema.sql").write_text(made)
    diff = "".join(difflib.unified_diff(schema.committed().splitlines(keepends=True), made.splitlines(keepends=True),
                                        "lfr_core/db/schema.sql", "fresh database", n=1))
    assert not diff, ("lfr_core/db/schema.sql is not what the migrations and policies make; regenerate it with "
                      f"`LFR_WRITE_SCHEMA=1 pytest tests/db/test_schema.py` and read the diff:\n{diff[:4000]}")


def test_the_dump_keeps_what_protects_people() -> None:
    """The committed schema shows the rules, not only the tables: guard triggers, row-level security, the
    audit log's own schema and the pinned search_path."""
    text = schema.committed()
    for needle in ("CREATE TRIGGER lfr_guard BEFORE INSERT OR DELETE OR UPDATE ON public.alerts",
                   "ALTER TABLE public.alerts ENABLE ROW LEVEL SECURITY",
                   "CREATE TABLE audit.audit_log",
                   "SET search_path TO 'pg_catalog', 'pg_temp'",
                   "CREATE FUNCTION public.lfr_transition_roles"):
        assert needle in text, needle
