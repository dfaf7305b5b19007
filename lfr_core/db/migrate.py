"""Versioned schema migrations: numbered SQL files applied once each, recorded with their checksum."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from lfr_core.errors import Misconfigured

MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
# Serialises concurrent `lfr db migrate` runs (Airflow workers, Ray replicas, tests).
ADVISORY_LOCK_KEY = 0x1F4_1F4


class MigrationError(Misconfigured):
    """The migrations do not fit the database: duplicate numbers, or an applied one whose file has changed."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("lfr_core.db.migrations").iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"duplicate migration numbers: {versions}")
    return found


def applied_migrations(conn: psycopg.Connection[Any]) -> dict[int, str]:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute("SELECT version, sha256 FROM schema_migrations ORDER BY version").fetchall()
    return dict(rows)


def migrate(conn: psycopg.Connection[Any]) -> list[Migration]:
    """Apply pending migrations in order, each in its own transaction. Returns what was applied."""
    with conn.transaction():
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   sha256 text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
    applied_now: list[Migration] = []
    for migration in available_migrations():
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
            done = applied_migrations(conn)
            if migration.version in done:
                if done[migration.version] != migration.sha256:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was edited after it was applied; "
                        "add a new migration instead"
                    )
                continue
            conn.execute(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, sha256) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.sha256),
            )
            applied_now.append(migration)
    return applied_now
