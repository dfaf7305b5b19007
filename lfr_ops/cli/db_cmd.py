"""`lfr db migrate|status`."""

from __future__ import annotations

import typer

from lfr_core.db.connection import connect
from lfr_core.db.harden import migrate_with_roles
from lfr_core.db.migrate import applied_migrations, available_migrations
from lfr_ops.cli.common import console, domain_errors, emit, load_settings
from lfr_ops.local_stack.manager import load_policy_packs

db = typer.Typer(no_args_is_help=True, help="Database schema")


@db.command("migrate")
def migrate_cmd(as_json: bool = typer.Option(False, "--json")) -> None:
    """Apply pending schema migrations (idempotent; each recorded in schema_migrations)."""
    settings = load_settings()
    with domain_errors():
        applied = migrate_with_roles(settings)
        load_policy_packs(settings)  # the packs' versions not yet loaded, so deployments can be planned under them
        with connect(settings) as conn:
            current = max(applied_migrations(conn), default=0)
    names = [f"{m.version:04d}_{m.name}" for m in applied]
    emit(
        {"applied": names, "schema_version": current, "latest": available_migrations()[-1].version},
        as_json,
        lambda d: console.print(f"applied: {names or 'nothing (up to date)'}; schema version {current}"),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(db, name="db")
