"""`lfr login|logout|whoami` and `lfr person add|list|disable`: who is acting is a signed-in person."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.table import Table

from lfr_core.identity import people, sessions
from lfr_ops.cli.common import console, domain_errors, emit, fail, load_settings, signed_in

person = typer.Typer(no_args_is_help=True, help="People who act on the platform, and their roles (admin)")
JSON = typer.Option(False, "--json", help="One JSON object on the last line")
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin")


def _password(from_stdin: bool, prompt: str, *, confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def login(name: str = typer.Argument(..., help="Your sign-in name"), password_stdin: bool = PASSWORD_STDIN,
          api: str | None = typer.Option(None, "--api", help="The live API, for a sign-in token that `lfr logout` "
                                                            "signs out there (default http://serve.host:serve.port; "
                                                            "https, or this machine only)"),
          as_json: bool = JSON) -> None:
    """Sign in: the password is checked by PostgreSQL, and later commands act as you, in your roles."""
    settings = load_settings()
    password = _password(password_stdin, "password")
    with domain_errors():
        path = sessions.login(settings, name, password, api=api or sessions.api_url(settings))
        with sessions.connect_signed_in(settings) as conn:
            roles = people.roles_of(conn, name)
    emit({"name": name, "roles": roles, "session_file": str(path), "api_token": sessions.holds_token(settings)},
         as_json, lambda d: console.print(f"signed in as {d['name']} ({', '.join(d['roles']) or 'no role'})",
                                          highlight=False))


def logout(as_json: bool = JSON) -> None:
    """Forget this user's sign-in, and sign its token out at the live API (refused there until it expires)."""
    with domain_errors():
        done = sessions.logout(load_settings())
    emit({"signed_out": done.was_signed_in, "token_revoked": done.token_revoked}, as_json,
         lambda d: console.print(("signed out" + (" (and its token at the live API)" if d["token_revoked"] else ""))
                                 if d["signed_out"] else "was not signed in"))


def whoami(as_json: bool = JSON) -> None:
    """Who later commands act as, and the roles the database gives them."""
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, actor):
        found = {"name": actor.name, "roles": people.roles_of(conn, actor.name)}
    emit(found, as_json, lambda d: console.print(f"{d['name']}: {', '.join(d['roles'])}", highlight=False))


@person.command("add")
def add(name: str = typer.Argument(..., help="Sign-in name, e.g. ann.authoriser"),
        role: list[str] = typer.Option(..., "--role", help="planner, authoriser, operator, admin or auditor; repeat"),
        password_stdin: bool = PASSWORD_STDIN,
        bootstrap: bool = typer.Option(False, "--bootstrap", help="As the database administrator (to add the first "
                                                                  "admin); otherwise as the signed-in admin"),
        as_json: bool = JSON) -> None:
    """Add a person; without --password-stdin a password is generated and shown once."""
    settings = load_settings()
    password = _password(True, "") if password_stdin else people.new_password()
    with domain_errors():
        conn = _administrator(settings) if bootstrap else sessions.connect_signed_in(settings)
        with conn:
            people.add(conn, name, role, password)
    shown = {"name": name, "roles": role, **({} if password_stdin else {"password": password})}
    emit(shown, as_json, lambda d: console.print(
        f"added {d['name']} ({', '.join(d['roles'])})" + (f"; password (shown once): {d['password']}"
                                                          if "password" in d else ""), highlight=False))


def _administrator(settings: Any):
    import psycopg
    from psycopg.rows import dict_row

    from lfr_core.db.connection import DatabaseUnavailable, admin_dsn

    dsn = admin_dsn(settings)
    if dsn is None:
        fail("no database administrator's credentials here (LFR_DB__ADMIN_DSN, or the embedded server's own)")
    try:
        return psycopg.connect(dsn, row_factory=dict_row)
    except psycopg.OperationalError as e:
        raise DatabaseUnavailable(f"PostgreSQL is unavailable ({str(e).strip().splitlines()[0][:200]}); "
                                  f"run `lfr services up`") from e


@person.command("list")
def list_(as_json: bool = JSON) -> None:
    """Every person, their roles and whether they can sign in."""
    settings = load_settings()
    with domain_errors(), signed_in(settings) as (conn, _):
        rows = people.list_people(conn)

    def render(items: list[dict[str, Any]]) -> None:
        table = Table("name", "roles", "can sign in")
        for r in items:
            table.add_row(r["name"], ", ".join(r["roles"]), "yes" if r["can_sign_in"] else "no")
        console.print(table)

    emit(rows, as_json, render)


@person.command("disable")
def disable(name: str, as_json: bool = JSON) -> None:
    """Stop a person signing in (admin); their name stays in the audit log."""
    settings = load_settings()
    with domain_errors(), signed_in(settings, "admin") as (conn, _):
        people.disable(conn, name)
    emit({"disabled": name}, as_json, lambda d: console.print(f"{d['disabled']} can no longer sign in"))


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("logout")(logout)
    app.command("whoami")(whoami)
    app.add_typer(person, name="person")
