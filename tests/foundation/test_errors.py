"""One error hierarchy, one table per interface (issue 26 item 2): every exception class the code defines is an
LfrError of one kind (lfr_core/errors.py), and the HTTP and CLI tables answer every one of them; no route of the
ingress catches a domain error to answer it itself. (The Airflow table: tests/dags/test_task_errors.py.)"""

from __future__ import annotations

import ast
from collections.abc import Callable

import psycopg
import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.errors import (
    Forbidden,
    Incomplete,
    InvalidInput,
    LfrError,
    Misconfigured,
    NotFound,
    NotSignedIn,
    Refused,
    Service,
    Unavailable,
)
from lfr_core.storage.objectstore import ObjectStoreError, ObjectStoreUnavailable
from lfr_ops.cli import common
from ray_apps.ingress import errors as http_errors
from tests.error_classes import ROOT, domain_errors, exception_classes

KINDS = {InvalidInput, NotFound, Refused, Unavailable, Incomplete, Misconfigured}

# Exception classes that are not the domain's errors, each with why; the list only shrinks.
NOT_DOMAIN: dict[str, str] = {}


def test_every_exception_class_the_code_defines_is_a_domain_error() -> None:
    errors = {cls.__name__: cls for cls in domain_errors()}
    outside = {name: [str(path.relative_to(ROOT)) for path, _ in where] for name, where in exception_classes().items()
               if name not in errors and name not in NOT_DOMAIN}
    assert not outside, f"exception classes outside lfr_core/errors.py's hierarchy: {outside}"


def test_each_domain_error_is_of_one_kind() -> None:
    assert set(LfrError.__subclasses__()) == KINDS
    for cls in domain_errors() - {LfrError}:
        assert sum(issubclass(cls, kind) for kind in KINDS) == 1, cls


def test_an_unavailable_service_is_named() -> None:
    assert Unavailable("x", service=Service.AIRFLOW).brief() == "Airflow is unavailable; retry shortly"
    assert DatabaseUnavailable().service == Service.POSTGRESQL
    assert ObjectStoreUnavailable("down").service == ObjectStoreError().service == Service.OBJECT_STORE


# -- the CLI -------------------------------------------------------------------------------------------------------

CLI_BY_KIND = {InvalidInput: 2, NotFound: 2, Misconfigured: 2, Refused: 3, Unavailable: 4, Incomplete: 1}


def test_the_cli_table_gives_every_domain_error_its_kinds_exit_code() -> None:
    for cls in domain_errors() - {LfrError}:
        (kind,) = (k for k in KINDS if issubclass(cls, k))
        assert common.exit_code(cls) == CLI_BY_KIND[kind], cls


@pytest.mark.parametrize(("error", "code"), [
    (InvalidInput("the window ends before it starts"), 2),
    (NotFound("no deployment 123"), 2),
    (Forbidden("ann (planner) may not approve; that needs the role authoriser"), 3),
    (ObjectStoreUnavailable("S3 at 127.0.0.1:9 is unavailable; run `lfr services up`"), 4),
    (DatabaseUnavailable("PostgreSQL at 127.0.0.1:9 is unavailable; run `lfr services up`"), 4),
])
def test_a_command_ends_with_one_line_and_its_exit_code(capsys: pytest.CaptureFixture[str], error: LfrError,
                                                        code: int) -> None:
    with pytest.raises(typer.Exit) as stopped, common.domain_errors():
        raise error
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert stopped.value.exit_code == code and lines == [f"error: {error}"]


# -- HTTP ----------------------------------------------------------------------------------------------------------

HTTP_BY_KIND = {InvalidInput: 422, NotFound: 404, Refused: 409, Unavailable: 503, Incomplete: 500, Misconfigured: 500}


def test_the_http_table_gives_every_domain_error_a_status() -> None:
    for cls in domain_errors() - {LfrError}:
        status = http_errors.status_of(cls)
        (kind,) = (k for k in KINDS if issubclass(cls, k))
        exact = next(c for c in cls.__mro__ if c in http_errors.STATUS)
        assert status == HTTP_BY_KIND[kind] or exact is not kind, cls  # a row of its own says why
    assert (http_errors.status_of(Forbidden), http_errors.status_of(NotSignedIn)) == (403, 401)


def _raising(error: Exception) -> Callable[[], None]:
    def route() -> None:
        raise error
    return route


def _client() -> TestClient:
    app = FastAPI()
    http_errors.use_error_table(app)
    raised = {
        "database": DatabaseUnavailable("PostgreSQL at 10.1.2.3:5432 is unavailable (timeout); run `lfr services up`"),
        "store": ObjectStoreUnavailable("S3 at 10.1.2.4:9000 is unavailable (refused)"),
        "lost": psycopg.OperationalError("server closed the connection unexpectedly"),
        "refused": Refused("alert 1 was already adjudicated"),
        "forbidden": Forbidden("ann cannot act on this connection"),
        "token": NotSignedIn("sign-in token refused: expired"),
        "missing": NotFound("no deployment 'x'"),
        "invalid": InvalidInput("a reason of at least 10 characters"),
        "broken": Misconfigured("detector weights file not found: /opt/models/x.onnx"),
    }
    for name, error in raised.items():
        app.add_api_route(f"/{name}", _raising(error))
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(("route", "status", "detail"), [
    ("database", 503, "PostgreSQL is unavailable; retry shortly"),
    ("store", 503, "the object store is unavailable; retry shortly"),
    ("lost", 503, "PostgreSQL is unavailable; retry shortly"),
    ("refused", 409, "alert 1 was already adjudicated"),
    ("forbidden", 403, "ann cannot act on this connection"),
    ("token", 401, "sign-in token refused: expired"),
    ("missing", 404, "no deployment 'x'"),
    ("invalid", 422, "a reason of at least 10 characters"),
    ("broken", 500, "the service failed (Misconfigured); its log has the details"),
])
def test_the_app_answers_each_kind_from_the_table(route: str, status: int, detail: str) -> None:
    r = _client().get(f"/{route}")
    assert (r.status_code, r.json()) == (status, {"detail": detail})
    if status == 503:  # one line naming the service, never where it runs
        assert r.headers["retry-after"] == "5" and "10.1.2" not in r.text
    if status == 401:
        assert r.headers["www-authenticate"] == "Bearer"


# -- no route answers a domain error itself ------------------------------------------------------------------------

ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "websocket"}


def _is_route(fn: ast.AsyncFunctionDef | ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_DECORATORS
               and isinstance(d.func.value, ast.Name) and d.func.value.id in ("app", "router")
               for d in fn.decorator_list)


def _named(handler: ast.ExceptHandler) -> set[str]:
    if handler.type is None:
        return set()
    nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return {ast.unparse(n).rpartition(".")[2] for n in nodes}


def _raises_http(handler: ast.ExceptHandler) -> bool:
    return any(isinstance(n, ast.Raise) and n.exc is not None and "HTTPException" in ast.unparse(n.exc)
               for n in ast.walk(handler))


def test_no_route_catches_a_domain_error_and_none_is_turned_into_an_http_answer_by_hand() -> None:
    """A route lets the domain's errors reach the app's handler; elsewhere in ray_apps an `except` of one may
    count it and re-raise, or add what the caller may know (raise NotFound(...) from e), never answer it."""
    domain = {cls.__name__ for cls in domain_errors()}
    found, route_count = [], 0
    for path in sorted((ROOT / "ray_apps").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        routes = [fn for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and _is_route(fn)]
        route_count += len(routes)
        in_route = {id(h) for fn in routes for h in ast.walk(fn) if isinstance(h, ast.ExceptHandler)}
        for handler in ast.walk(tree):
            if isinstance(handler, ast.ExceptHandler) and _named(handler) & domain:
                where = f"{path.relative_to(ROOT)}:{handler.lineno} except {', '.join(sorted(_named(handler)))}"
                if id(handler) in in_route:
                    found.append(f"{where} (in a route)")
                elif _raises_http(handler):
                    found.append(f"{where} (answered by hand)")
    assert route_count >= 20, f"found {route_count} routes: does _is_route still know how they are declared?"
    assert not found, "\n".join(found)


def test_the_ingress_answers_from_the_table() -> None:
    """The app registers the table's handler, and the ingress's old local mappings are gone."""
    from ray_apps.ingress.app import app

    assert LfrError in app.exception_handlers and psycopg.OperationalError in app.exception_handlers
    assert Refused not in app.exception_handlers and InvalidInput not in app.exception_handlers
    contract = (ROOT / "ray_apps" / "ingress" / "contract.py").read_text()
    assert "answer_unavailable" not in contract and "refuse_invalid" not in contract
