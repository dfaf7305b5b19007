"""The ingress's one error table: how each kind of domain error (lfr_core/errors.py) answers over HTTP.

One exception handler on the FastAPI app reads it for every route, so a route raises the domain's errors and
catches none of them. A service that is down answers 503 with Retry-After and one line naming it, never its
address; a missing or refused sign-in answers 401 with WWW-Authenticate. The frame stream (a WebSocket, which
the app's handlers do not see) answers each frame from the same table (`answer`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from lfr_core.db.connection import DatabaseUnavailable
from lfr_core.errors import HTTP_STATUS, LfrError, NotSignedIn, Unavailable, row_for
from lfr_core.live.pipeline import FrameRefused, FrameTooLarge
from lfr_core.vision.errors import ImageError

log = logging.getLogger("ray.serve")

# Each kind's status (the domain's HTTP_STATUS) and the live path's own; a class answers as the nearest of its
# ancestors listed here.
STATUS: dict[type[LfrError], int] = {
    **HTTP_STATUS,
    ImageError: 400,  # bytes that are no usable image
    FrameRefused: 400,
    FrameTooLarge: 413,
}

# Errors from outside the domain that mean one of its kinds.
OUTSIDE: dict[type[Exception], Callable[[Exception], LfrError]] = {
    # The server went away mid-request (the connect itself fails as DatabaseUnavailable).
    psycopg.OperationalError: lambda e: DatabaseUnavailable(str(e)),
}

# What the frame stream answers per frame from this table, beside the HTTP layer's own refusals.
ANSWERED: tuple[type[Exception], ...] = (HTTPException, LfrError, *OUTSIDE)


@dataclass(frozen=True)
class Answer:
    status: int
    detail: str
    headers: dict[str, str] = field(default_factory=dict)


def status_of(kind: type[LfrError]) -> int:
    return row_for(STATUS, kind, "the HTTP error table")


def answer(exc: Exception) -> Answer:
    """The status, the one-line detail and the headers for an error a route raised."""
    if isinstance(exc, HTTPException):
        return Answer(exc.status_code, str(exc.detail), dict(exc.headers or {}))
    error = exc if isinstance(exc, LfrError) else OUTSIDE[next(t for t in type(exc).__mro__ if t in OUTSIDE)](exc)
    status = status_of(type(error))
    if isinstance(error, Unavailable):
        return Answer(status, error.brief(), {"Retry-After": str(error.retry_after_s)})
    if isinstance(error, NotSignedIn):
        return Answer(status, str(error), {"WWW-Authenticate": "Bearer"})
    if status >= 500:  # the installation or a half-done operation: the details are for the operator's log
        log.error("%s: %s", type(error).__name__, error)
        return Answer(status, f"the service failed ({type(error).__name__}); its log has the details")
    return Answer(status, str(error))


def use_error_table(app: FastAPI) -> None:
    """Every domain error (and each outside one that means one) answers from the table, in the one error shape."""

    async def _answer(_: Request, exc: Exception) -> JSONResponse:
        found = answer(exc)
        return JSONResponse({"detail": found.detail}, status_code=found.status, headers=found.headers)

    handled: tuple[type[Exception], ...] = (LfrError, *OUTSIDE)
    for kind in handled:
        app.add_exception_handler(kind, _answer)
