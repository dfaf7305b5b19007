"""An address that names no public deployment answers with a page a person can read (issue 31 item 8): the public
followed a link; they got raw JSON ({"detail": "no deployment ..."}) and no way back."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lfr_core.config import Settings
from lfr_core.errors import NotFound
from ray_apps.ingress import public
from ray_apps.ingress.context import context
from ray_apps.ingress.contract import use_one_error_shape
from ray_apps.ingress.errors import use_error_table


@pytest.fixture()
def client() -> TestClient:
    async def db(fn: Any, *args: Any) -> Any:
        raise NotFound(f"no deployment {args[-1]}")

    app = FastAPI()
    use_error_table(app)
    use_one_error_shape(app)
    app.include_router(public.router)
    app.dependency_overrides[context] = lambda: SimpleNamespace(settings=Settings(), db=db)
    return TestClient(app)


@pytest.mark.parametrize("dep", [str(uuid.uuid4()), "not-a-uuid"])
def test_an_unknown_public_deployment_is_a_page_with_the_way_back(client, dep):
    r = client.get(f"/public/deployments/{dep}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "No such deployment" in r.text and 'href="/public/deployments"' in r.text
    assert '"detail"' not in r.text


def test_the_results_api_still_answers_json(client):
    r = client.get(f"/public/deployments/{uuid.uuid4()}/results")
    assert r.status_code == 404 and r.json()["detail"].startswith("no deployment")
