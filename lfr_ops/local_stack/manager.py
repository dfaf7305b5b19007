"""`lfr services up|down|status`: start, stop and report the local services, all on 127.0.0.1."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from lfr_core.config import Settings
from lfr_core.db.connection import connect, database_dsn
from lfr_core.db.harden import migrate_with_roles
from lfr_core.storage.objectstore import ObjectStore
from lfr_ops.local_stack.postgres import EmbeddedPostgres
from lfr_ops.local_stack.s3server import NOTES as S3_NOTES
from lfr_ops.local_stack.s3server import EmbeddedS3


def up(settings: Settings) -> dict[str, Any]:
    """Start what is configured as embedded, migrate the schema, create the buckets. Idempotent."""
    settings.home.mkdir(parents=True, exist_ok=True)
    started: dict[str, bool] = {}
    if settings.db.embedded:
        started["postgres"] = EmbeddedPostgres.from_settings(settings).start()
    if settings.s3.embedded:
        started["s3"] = EmbeddedS3.from_settings(settings).start()
    applied = migrate_with_roles(settings)
    packs = load_policy_packs(settings)
    # Buckets are made and configured by the admin identity; the platform's own key cannot (policy.py).
    admin = EmbeddedS3.from_settings(settings).admin_store() if settings.s3.embedded else ObjectStore(settings)
    admin.ensure_buckets()
    return {"started": started, "migrations_applied": [f"{m.version:04d}_{m.name}" for m in applied],
            "policy_packs_loaded": packs}


def load_policy_packs(settings: Settings) -> list[str]:
    """Load, as the platform, each pack file's version not yet in the database (the shipped `uk-app` and
    `eu-ai-act`, and the force's own), so deployments can be planned under them; each load is audited."""
    from lfr_core.deployments import policy_store
    from lfr_core.identity.model import SYSTEM

    with connect(settings) as conn:
        return [f"{r.name} v{r.version}" for r in policy_store.load_all(conn, settings, SYSTEM) if r.loaded]


def down(settings: Settings) -> dict[str, bool]:
    """Stop every embedded service by its PID; returns which were running."""
    stopped: dict[str, bool] = {}
    # Later services first: they hold connections to the database and the object store.
    from lfr_ops.local_stack import extra  # Airflow and Ray Serve, added by later issues

    stopped.update(extra.down(settings))
    stopped["s3"] = EmbeddedS3.from_settings(settings).stop()
    stopped["postgres"] = EmbeddedPostgres.from_settings(settings).stop()
    return stopped


def _postgres_status(settings: Settings) -> dict[str, Any]:
    report: dict[str, Any] = {"address": f"{settings.db.host}:{settings.db.port}", "embedded": settings.db.embedded}
    if settings.db.embedded:
        report["pid"] = EmbeddedPostgres.from_settings(settings).pid()
    try:
        database_dsn(settings)
        with connect(settings, vector=False) as conn, conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                "SELECT current_setting('server_version') AS server,"
                " (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector,"
                " (SELECT coalesce(max(version), 0) FROM schema_migrations) AS schema_version"
            ).fetchone()
    except Exception as e:  # noqa: BLE001 - status reports any failure instead of raising
        report.update(healthy=False, error=str(e).splitlines()[0])
        return report
    assert row is not None  # a SELECT without FROM answers one row
    report.update(healthy=True, server_version=row["server"], pgvector=row["pgvector"], schema_version=row["schema_version"])
    return report


def _s3_status(settings: Settings) -> dict[str, Any]:
    report: dict[str, Any] = {"address": settings.s3.endpoint, "embedded": settings.s3.embedded}
    if settings.s3.embedded:
        report["pid"] = EmbeddedS3.from_settings(settings).pid()
        report["server"] = "moto"
        report["data"] = str(EmbeddedS3.from_settings(settings).state_dir)
        report["notes"] = S3_NOTES
    report["healthy"] = ObjectStore(settings).healthy()
    return report


def status(settings: Settings) -> dict[str, Any]:
    from lfr_ops.local_stack import extra

    shared = settings.shared_dir
    return {
        "home": str(settings.home),
        "postgres": _postgres_status(settings),
        "s3": _s3_status(settings),
        **extra.status(settings),
        "shared_dir": {
            "path": str(shared),
            "present": shared.is_dir(),
            "faces_manifest": settings.faces_manifest.is_file(),
            "note": None if shared.is_dir() else "shared data is missing: evaluation and demo fall back to packaged images",
        },
    }
