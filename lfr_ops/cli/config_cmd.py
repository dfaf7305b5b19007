"""`lfr config show`: the effective configuration, secrets masked."""

from __future__ import annotations

import typer

from lfr_ops.cli.common import emit, load_settings

config = typer.Typer(no_args_is_help=True, help="Inspect configuration")


@config.command("show")
def show(as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the effective configuration (environment + defaults); secrets appear as '**********'."""
    # SecretStr dumps as '**********' in JSON mode, which is the masking we want.
    emit(load_settings().model_dump(mode="json"), as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(config, name="config")
