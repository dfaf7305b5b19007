"""Shared CLI plumbing: loading settings with readable errors, JSON-or-table output, exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from lfr_core.config import Settings, get_settings

# Piped output (logs, scripts, CI) gets wide lines rather than rich's 80 columns, so tables keep every reason.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

EXIT_USAGE = 2  # bad input: config, arguments, files
EXIT_REFUSED = 3  # a valid request the rules refuse (illegal transition, outside the window)
EXIT_UNAVAILABLE = 4  # a service could not be reached or started


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def describe_validation_error(error: ValidationError, prefix: str = "LFR_") -> str:
    lines = []
    for item in error.errors():
        field = prefix + "__".join(str(part) for part in item["loc"]).upper()
        lines.append(f"{field}={item.get('input')!r}: {item['msg']}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as e:
        fail(describe_validation_error(e))


def emit(data: Any, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """JSON as the last line of stdout, or a human rendering."""
    if as_json:
        sys.stdout.write(json.dumps(data, default=str, sort_keys=True) + "\n")
    elif render is not None:
        render(data)
    else:
        console.print_json(json.dumps(data, default=str))


@contextmanager
def domain_errors() -> Iterator[None]:
    """Map the library's user-facing errors to exit codes."""
    import psycopg

    from lfr_core.db.connection import DatabaseUnavailable
    from lfr_core.errors import InvalidInput, NotFound, Refused
    from lfr_core.storage.objectstore import ObjectStoreError

    try:
        with cli_errors((InvalidInput, EXIT_USAGE), (NotFound, EXIT_USAGE), (Refused, EXIT_REFUSED),
                        (DatabaseUnavailable, EXIT_UNAVAILABLE), (ObjectStoreError, EXIT_UNAVAILABLE)):
            yield
    except psycopg.errors.InsufficientPrivilege as e:  # the database refused what the person's roles do not allow
        fail(f"refused by the database: {e.diag.message_primary or e}", EXIT_REFUSED)
    except psycopg.OperationalError as e:  # the server went away mid-command (shut down, killed, network)
        settings = get_settings()
        fail(f"PostgreSQL at {settings.db.host}:{settings.db.port} became unavailable "
             f"({str(e).strip().splitlines()[0][:200]}); nothing was committed by this command", EXIT_UNAVAILABLE)


@contextmanager
def signed_in(settings: Settings, *roles: str) -> Iterator[tuple[Any, Any]]:
    """A connection as the person signed in with `lfr login`, and that person as an Actor in the first of
    `roles` they hold; the database applies their roles to everything the command does."""
    from lfr_core.identity import people, sessions

    with sessions.connect_signed_in(settings) as conn:
        yield conn, people.current(conn, *roles)


@contextmanager
def cli_errors(*mapping: tuple[type[BaseException], int]) -> Iterator[None]:
    """Turn the expected exceptions of a command into a message and an exit code."""
    try:
        yield
    except tuple(exc for exc, _ in mapping) as e:
        for exc, code in mapping:
            if isinstance(e, exc):
                fail(str(e), code)
        raise
