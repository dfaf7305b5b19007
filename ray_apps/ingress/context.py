"""What the ingress's route groups share, declared once: the replica's context, and the dependencies that hand
it and the signed-in person to a route.

Each replica (ray_apps/ingress/replica.py) builds one `IngressContext`; a route names what it uses among its
parameters (`ctx: Ctx`, `actor: Officer`), so no route group reads an attribute of a class it is mixed into,
and the sign-in (a valid token, a person in good standing, one of the roles) is checked in one place,
`signed_in`, before the route runs: 401 without a sign-in, 403 without the role.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Protocol, TypeVar, cast

import psycopg
from fastapi import Depends, HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials

from lfr_core.alerts import service as alerts_lib
from lfr_core.config import Settings
from lfr_core.identity import people
from lfr_core.identity.model import Actor
from lfr_core.identity.roles import acting
from lfr_core.storage.objectstore import ObjectStore
from ray_apps.ingress.access import Access
from ray_apps.ingress.contract import person_token
from ray_apps.ingress.counters import Counters
from ray_apps.ingress.live import LivePath
from ray_apps.ingress.metrics import Metrics
from ray_apps.options import AppOptions

T = TypeVar("T")
Db = Callable[..., Awaitable[Any]]  # await db(fn, *args): fn(conn, *args) on the replica's connection, in a thread

OFFICERS = ("operator", "admin", "auditor")  # who may look; operators only at their own deployments
DECIDERS = ("operator", "admin")  # who may decide on an alert


@dataclass
class IngressContext:
    settings: Settings
    options: AppOptions
    db: Db
    store: ObjectStore
    access: Access
    metrics: Metrics
    counters: Counters
    live: LivePath  # the cameras' side: the frame pipeline, each deployment's live state, frames in progress
    _undo: timedelta | None = field(default=None, init=False, repr=False)

    async def as_person(self, actor: Actor, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """fn(conn, ...) in one transaction run as the person: the database's row-level security decides which
        alerts they see, and its rules what they may change."""
        result: T = await self.db(_acting, actor, fn, *args, **kwargs)
        return result

    async def undo_window(self) -> timedelta:
        """How long a decider may take a decision back (the database's, read once per replica)."""
        if self._undo is None:
            self._undo = timedelta(seconds=await self.db(alerts_lib.undo_window_s))
        return self._undo


def _acting(conn: psycopg.Connection, actor: Actor, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with acting(conn, actor):
        return fn(conn, *args, **kwargs)


def uuid_of(value: str, what: str) -> uuid.UUID:
    """A path's id as a UUID; anything else names nothing here (404)."""
    try:
        return uuid.UUID(value)
    except ValueError as e:
        raise HTTPException(404, f"no {what} {value!r} (not a UUID)") from e


class Replica(Protocol):
    context: IngressContext


async def context() -> IngressContext:
    """The context of the replica answering this request (tests put their own in its place)."""
    from ray import serve

    replica = cast(Replica, serve.get_replica_context().servable_object)
    return replica.context


Ctx = Annotated[IngressContext, Depends(context)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(person_token)]


def signed_in(*roles: str) -> Any:
    """The dependency for a route open to the signed-in person in the first of `roles` they hold."""

    async def person(ctx: Ctx, auth: Credentials) -> Actor:
        return await ctx.access.person(auth, *roles)

    return Depends(person)


Person = Annotated[Actor, signed_in(*people.PEOPLE_ROLES)]
Officer = Annotated[Actor, signed_in(*OFFICERS)]
Decider = Annotated[Actor, signed_in(*DECIDERS)]
Admin = Annotated[Actor, signed_in("admin")]
