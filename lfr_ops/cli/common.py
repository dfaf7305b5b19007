"""Shared CLI plumbing: loading settings with readable errors, JSON-or-table output, and the one table of exit
codes for the domain's errors."""

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
from lfr_core.errors import Incomplete, InvalidInput, LfrError, Misconfigured, NotFound, Refused, Unavailable, row_for

# Piped output (logs, scripts, CI) gets wide lines rather than rich's 80 columns, so tables keep every reason.
_WIDTH = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200
console = Console(width=_WIDTH)
err_console = Console(stderr=True, width=_WIDTH)

EXIT_FAILED = 1  # an operation stopped part-way; running it again finishes it
EXIT_USAGE = 2  # bad input: config, arguments, files, or what they name does not exist
EXIT_REFUSED = 3  # a valid request the rules refuse (illegal transition, outside the window, the wrong role)
EXIT_UNAVAILABLE = 4  # a service could not be reached or started

# The CLI's one error table: each kind of domain error (lfr_core/errors.py) and the exit code it ends a command
# with, after one line on stderr; a class exits as the nearest of its ancestors listed here.
EXIT_CODES: dict[type[LfrError], int] = {
    InvalidInput: EXIT_USAGE,
    NotFound: EXIT_USAGE,
    Misconfigured: EXIT_USAGE,  # the configuration is the operator's input
    Refused: EXIT_REFUSED,
    Unavailable: EXIT_UNAVAILABLE,
    Incomplete: EXIT_FAILED,
}


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


def exit_code(kind: type[LfrError]) -> int:
    return row_for(EXIT_CODES, kind, "the CLI's exit code table")


@contextmanager
def domain_errors() -> Iterator[None]:
    """A command's domain errors end it with one line and the table's exit code, never a traceback; so do the
    database's refusal of what the person's roles do not allow (Refused) and a server lost mid-command
    (Unavailable)."""
    import psycopg

    from lfr_core.db.connection import DatabaseUnavailable

    try:
        yield
    except LfrError as e:
        fail(str(e), exit_code(type(e)))
    except psycopg.errors.InsufficientPrivilege as e:
        refused = Refused(f"refused by the database: {e.diag.message_primary or e}")
        fail(str(refused), exit_code(type(refused)))
    except psycopg.OperationalError as e:  # shut down, killed, the network
        settings = get_settings()
        lost = DatabaseUnavailable(f"PostgreSQL at {settings.db.host}:{settings.db.port} became unavailable "
                                   f"({str(e).strip().splitlines()[0][:200]}); nothing was committed by this command")
        fail(str(lost), exit_code(type(lost)))


@contextmanager
def signed_in(settings: Settings, *roles: str) -> Iterator[tuple[Any, Any]]:
    """A connection as the person signed in with `lfr login`, and that person as an Actor in the first of
    `roles` they hold; the database applies their roles to everything the command does."""
    from lfr_core.identity import people, sessions

    with sessions.connect_signed_in(settings) as conn:
        yield conn, people.current(conn, *roles)

