"""The ingress's route groups (ray_apps/ingress/) without Ray: every route is a function of a group module that
takes the replica's context as its declared dependency, a person's routes take the signed-in person from the
one sign-in dependency, and the app answers through them with a context of the test's own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.testclient import TestClient

from lfr_core.identity import people
from lfr_core.identity.model import Actor
from ray_apps.ingress.app import app
from ray_apps.ingress.context import context
from ray_apps.ingress.metrics import Metrics

GROUPS = {"operations", "sessions", "cameras", "officers", "public"}
OPEN = {"/healthz", "/console", "/v1/auth/token", "/v1/deployments/{deployment_id}/frames",
        "/v1/deployments/{deployment_id}/stream"}  # no person signs in (a camera's key is checked in the route)


def routes() -> list[APIRoute | APIWebSocketRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute | APIWebSocketRoute)
            and r.endpoint.__module__.startswith("ray_apps.ingress.")
            and r.endpoint.__module__ != "ray_apps.ingress.offline_docs"]


def calls(dependant: Dependant) -> set[str]:
    found = set()
    for dep in dependant.dependencies:
        found.add(getattr(dep.call, "__qualname__", ""))
        found |= calls(dep)
    return found


def test_every_route_is_a_function_of_a_route_group_that_declares_the_context_it_uses() -> None:
    assert len(routes()) >= 20
    for route in routes():
        module = route.endpoint.__module__.rpartition(".")[2]
        assert module in GROUPS and "." not in route.endpoint.__qualname__, route.path  # no method of a mixin
        if route.path != "/console":
            assert context.__qualname__ in calls(route.dependant), f"{route.path} does not take the context"


def test_a_persons_routes_take_the_person_from_the_one_sign_in_dependency() -> None:
    for route in routes():
        signs_in = "signed_in.<locals>.person" in calls(route.dependant)
        assert signs_in == (route.path not in OPEN | {"/public/deployments", "/v1/auth/logout"}
                            and not route.path.startswith("/public/")), route.path


@dataclass
class FakeAccess:
    """Signs in whoever sends a token, as the operator; refuses anyone else as Access does."""

    def __post_init__(self) -> None:
        self.asked: list[tuple[str, ...]] = []

    async def person(self, auth: HTTPAuthorizationCredentials | None, *roles: str) -> Actor:
        self.asked.append(roles)
        if auth is None:
            raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Bearer"})
        if "operator" not in roles:
            raise HTTPException(403, "olly.operator (operator) may not do this")
        return Actor("olly.operator", "operator")


@dataclass
class FakeLive:
    def frames_in_progress(self) -> int:
        return 3

    def deployments_loaded(self) -> int:
        return 1

    def track_count(self) -> int:
        return 0


@dataclass
class FakeContext:
    access: FakeAccess = field(default_factory=FakeAccess)
    live: FakeLive = field(default_factory=FakeLive)
    metrics: Metrics = field(default_factory=Metrics)

    async def db(self, fn: Any, *args: Any) -> Any:
        assert fn is people.signed_in_roles and args == ("olly.operator",)
        return ["operator"]


@pytest.fixture()
def client() -> TestClient:
    ctx = FakeContext()
    app.dependency_overrides[context] = lambda: ctx
    try:
        yield TestClient(app)
    finally:
        app.dependency_overrides.pop(context)


def test_the_routes_answer_through_the_context_they_are_given(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True, "inflight": 3, "deployments": 1}
    bearer = {"Authorization": "Bearer t"}
    assert client.get("/v1/me", headers=bearer).json() == {"name": "olly.operator", "roles": ["operator"]}
    me = client.get("/v1/me")
    assert me.status_code == 401 and me.headers["www-authenticate"] == "Bearer"
    assert client.get("/metrics", headers=bearer).status_code == 403  # an admin's route: refused before it runs
    hidden = client.get(f"/v1/deployments/{uuid.uuid4()}/alerts", params={"reason": "checking the list"})
    assert hidden.status_code == 401
