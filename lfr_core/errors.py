"""The platform's one error hierarchy. Every error the code raises on purpose is an `LfrError` of one of the
kinds below, and each interface maps the kinds once, in one table:

- HTTP: `HTTP_STATUS` below, which the ingress (ray_apps/ingress/errors.py: a 503 names the service that is
  down) and the Airflow pages (airflow_plugins/lfr_watchlist_view.py) answer from;
- CLI: lfr_ops/cli/common.py (exit code, one line, no traceback);
- Airflow: airflow_plugins/lfr_task_errors.py (fail the task at once, skip the rest, or let it retry).

    LfrError
    ├── InvalidInput     the request or file is malformed           CLI 2  HTTP 422  Airflow fails
    ├── NotFound         what it names does not exist               CLI 2  HTTP 404  Airflow fails
    ├── Refused          the rules forbid it (in this state)        CLI 3  HTTP 409  Airflow fails
    │   ├── Forbidden    the person's roles do not allow it                HTTP 403
    │   └── NotSignedIn  no valid sign-in                                  HTTP 401
    ├── Unavailable      a service did not answer (`service`)       CLI 4  HTTP 503  Airflow retries
    ├── Incomplete       stopped part-way; running it again ends it CLI 1  HTTP 500  Airflow retries
    └── Misconfigured    the installation is wrong; an operator     CLI 2  HTTP 500  Airflow fails
                         must fix it (weights, backend, schema)

A context's own error (ImageError, DatabaseUnavailable, ...) derives from one kind and inherits its mapping;
a table names it only where an interface answers it differently from its kind (a refused frame is 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar, TypeVar

Answer = TypeVar("Answer")


class LfrError(Exception):
    """Base for errors with a message meant for the person who caused them, or who must act on them."""


class InvalidInput(LfrError, ValueError):
    """The request or file is malformed; the message says what to fix."""


class NotFound(LfrError, LookupError):
    """The named deployment, version, alert, person or object does not exist (or is not this caller's to see)."""


class Refused(LfrError):
    """A well-formed request the rules forbid: an illegal transition, a window that has ended, a decision
    already taken."""


class Forbidden(Refused):
    """The person may not do this: their roles do not allow it, or the database will not act as them."""


class NotSignedIn(Refused):
    """No valid sign-in (none, a wrong password, an expired or foreign token); the message says how to sign in."""


class Service(StrEnum):
    """The services an `Unavailable` names, as a caller reads them in one line."""

    POSTGRESQL = "PostgreSQL"
    OBJECT_STORE = "the object store"
    AIRFLOW = "Airflow"
    LIVE_API = "the live API"  # the Ray Serve application
    DETECTOR = "the detector"
    EMBEDDER = "the embedder"


class Unavailable(LfrError):
    """A service the platform needs did not answer, or failed the request: `service` names it. The message
    is for the operator (where, and what to run); `brief()` is the one line a caller outside the platform
    gets, naming the service and nothing of how it is reached."""

    service: str = "a service"
    retry_after_s: ClassVar[int] = 5  # how soon trying again may succeed

    def __init__(self, message: str = "", *, service: str | None = None) -> None:
        if service is not None:
            self.service = service
        super().__init__(message or f"{self.service} is unavailable")

    def brief(self) -> str:
        return f"{self.service} is unavailable; retry shortly"


class Incomplete(LfrError):
    """An operation stopped part-way (a purge that left something behind, a sweep with deployments left):
    what it did stays done, and running it again finishes it."""


class Misconfigured(LfrError):
    """The installation does not fit the code (a model's weights or backend, the schema's migrations): an
    operator must fix it; trying again does not help."""


# Each kind's HTTP status. An interface adds rows only for its own errors that answer otherwise (the ingress: a
# refused frame is 400, an oversized one 413).
HTTP_STATUS: dict[type[LfrError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Refused: 409,  # the rules, in the current state: no active list, already decided, outside the window
    Forbidden: 403,
    NotSignedIn: 401,
    Unavailable: 503,
    Incomplete: 500,
    Misconfigured: 500,
}


def row_for(table: Mapping[type[LfrError], Answer], kind: type[LfrError], name: str) -> Answer:
    """What an interface's error table (`name`) answers for `kind`: its own row, else its nearest kind's."""
    for cls in kind.__mro__:
        if cls in table:
            return table[cls]
    raise LookupError(f"{kind.__name__} is in no row of {name}")
