"""The ingress's request checks without Ray: the one error table every route answers from
(ray_apps/ingress/errors.py), the one error shape over HTTP (ray_apps/ingress/contract.py, on a FastAPI app of its
own), and the ingress's own refusals before a frame reaches the pipeline: a deployment id that is no UUID,
the deployment's gate, and back-pressure per camera (ray_apps/ingress/context.py and live.py, the cameras' side of
a replica built without Serve: only what those checks read)."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from fastapi import FastAPI, HTTPException, Query
from fastapi.testclient import TestClient

from lfr_core.config import Settings
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
    Unavailable,
)
from lfr_core.live.pipeline import FrameRefused, FrameTooLarge
from lfr_core.live.records import RefusedFrame
from lfr_core.vision.errors import ImageError
from ray_apps.ingress import errors as http_errors
from ray_apps.ingress.context import uuid_of
from ray_apps.ingress.contract import CAMERA_PATTERN, NO_NUL, use_one_error_shape
from ray_apps.ingress.counters import Counters
from ray_apps.ingress.errors import answer, status_of, use_error_table
from ray_apps.ingress.live import BACKPRESSURE_HEADER, LivePath
from ray_apps.ingress.metrics import Metrics
from ray_apps.options import AppOptions

# -- the error table ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("error", "status"), [
    (InvalidInput("bad manifest"), 422), (ImageError("not_an_image", "send a JPEG"), 400),
    (FrameRefused(RefusedFrame("truncated", "the JPEG ends early")), 400),
    (FrameTooLarge(RefusedFrame("too_many_pixels", "at most 8 megapixels")), 413), (NotFound("no alert"), 404),
    (Refused("already decided"), 409),
    (Forbidden("not your deployment"), 403), (NotSignedIn("sign in"), 401),
])
def test_each_kind_of_domain_error_answers_its_status_with_its_message(error, status):
    found = answer(error)
    assert (found.status, found.detail) == (status, str(error))


def test_a_kind_answers_as_its_nearest_listed_ancestor_and_an_unlisted_one_is_named():
    class NoApproval(Refused):
        pass

    class Unlisted(LfrError):
        pass

    assert status_of(NoApproval) == 409 and status_of(DatabaseUnavailable) == 503
    with pytest.raises(LookupError, match="Unlisted is in no row"):
        status_of(Unlisted)


def test_every_domain_error_the_code_defines_has_a_row():
    def kinds(cls: type[LfrError]) -> set[type[LfrError]]:
        return {cls} | {k for sub in cls.__subclasses__() for k in kinds(sub)}

    domain = {k for k in kinds(LfrError) if k.__module__.startswith(("lfr_core.", "ray_apps."))}
    assert len(domain) > 10
    assert {k.__name__: status_of(k) for k in domain if k is not LfrError}  # LookupError names the missing one


def test_a_service_that_is_down_answers_503_naming_it_without_its_address():
    found = answer(DatabaseUnavailable("PostgreSQL at 10.0.0.5:5432 refused the connection; run lfr services up"))
    assert found.status == 503 and found.headers == {"Retry-After": str(Unavailable.retry_after_s)}
    assert "PostgreSQL" in found.detail and "10.0.0.5" not in found.detail


def test_the_database_lost_mid_request_answers_as_the_database_unavailable():
    found = answer(psycopg.OperationalError("server closed the connection unexpectedly (host 10.0.0.5)"))
    assert found.status == 503 and "PostgreSQL" in found.detail and "10.0.0.5" not in found.detail


def test_a_missing_sign_in_answers_401_with_www_authenticate():
    assert answer(NotSignedIn("sign in first")) == http_errors.Answer(401, "sign in first",
                                                                      {"WWW-Authenticate": "Bearer"})


@pytest.mark.parametrize("error", [Incomplete("purge left 3 objects at s3://lfr-images/x"),
                                   Misconfigured("weights missing at /srv/models/sface.onnx")])
def test_a_server_side_failure_answers_500_and_keeps_its_details_for_the_log(error):
    found = answer(error)
    assert found.status == 500 and type(error).__name__ in found.detail
    assert "s3://" not in found.detail and "/srv/" not in found.detail


def test_an_http_refusal_answers_as_raised():
    refusal = HTTPException(503, "frame dropped", headers={"Retry-After": "1", BACKPRESSURE_HEADER: "1"})
    assert answer(refusal) == http_errors.Answer(503, "frame dropped", {"Retry-After": "1", BACKPRESSURE_HEADER: "1"})


# -- one error shape over HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    use_one_error_shape(app)
    use_error_table(app)

    @app.get("/frames")
    async def frames_route(camera: str = Query("default", pattern=CAMERA_PATTERN),
                           note: str = Query("", pattern=NO_NUL)) -> dict[str, str]:
        return {"camera": camera}

    @app.get("/down")
    async def down() -> None:
        raise DatabaseUnavailable("PostgreSQL at 127.0.0.1:5432 refused the connection")

    @app.get("/gone")
    async def gone() -> None:
        raise NotFound("no alert 42")

    return TestClient(app)


@pytest.mark.parametrize("query", [{"camera": "cam 1"}, {"camera": "x" * 65}, {"camera": "../etc"},
                                   {"note": "a\x00b"}])
def test_a_malformed_parameter_answers_422_with_one_detail_string(client, query):
    got = client.get("/frames", params=query)
    assert got.status_code == 422 and isinstance(got.json()["detail"], str)
    assert got.json()["detail"].startswith("query.")


def test_a_well_formed_camera_id_passes(client):
    assert client.get("/frames", params={"camera": "north-gate_2.a"}).json() == {"camera": "north-gate_2.a"}


def test_domain_errors_answer_over_http_in_the_same_shape(client):
    down = client.get("/down")
    assert down.status_code == 503 and down.headers["retry-after"] == str(Unavailable.retry_after_s)
    assert down.json() == {"detail": "PostgreSQL is unavailable; retry shortly"}
    assert client.get("/gone").json() == {"detail": "no alert 42"}


# -- the ingress's own refusals -----------------------------------------------------------------------------


class NoDb:
    async def __call__(self, fn, *args):
        raise AssertionError("these checks ask nothing of the database")


def bare_ingress(max_inflight_per_camera: int = 1) -> LivePath:
    """The cameras' side of a replica without Serve (no models, store or database behind it): the options, the
    metrics, the counters and the table of frames in progress that the checks read."""
    return LivePath(Settings(_env_file=None), AppOptions(max_inflight_per_camera=max_inflight_per_camera),
                    detector=None, embedder=None, store=None, db=NoDb(), metrics=Metrics(),
                    counters=Counters(NoDb(), flush_every_s=60), replica_id="bare")


def sample(ingress, name: str, **labels: str) -> float:
    value = ingress.metrics.registry.get_sample_value(name, labels or None)
    return value or 0.0


@pytest.mark.parametrize("value", ["42", "not-a-uuid", "", "0" * 64])
def test_a_deployment_id_that_is_no_uuid_answers_404(value):
    with pytest.raises(HTTPException) as caught:
        uuid_of(value, "deployment")
    assert caught.value.status_code == 404 and "not a UUID" in caught.value.detail


def test_a_deployment_id_is_read_as_its_uuid():
    dep = uuid.uuid4()
    assert uuid_of(str(dep).upper(), "deployment") == dep


class Gate:
    def __init__(self, reason: str | None) -> None:
        self.reason = reason

    def gate(self):
        return self.reason


def test_a_closed_gate_refuses_the_frame_409_with_its_reason_and_counts_it_for_the_camera():
    ingress, dep = bare_ingress(), uuid.uuid4()
    with pytest.raises(HTTPException) as caught:
        ingress.open_gate(Gate("outside the deployment window; frames are refused"), dep, "cam-1")
    assert caught.value.status_code == 409 and "outside the deployment window" in caught.value.detail
    assert sample(ingress, "lfr_frames_refused_total", reason="gate") == 1
    assert ingress.counters._pending[(dep, "cam-1")].refused == 1
    ingress.open_gate(Gate(None), dep, "cam-1")  # open: nothing more counted
    assert sample(ingress, "lfr_frames_refused_total", reason="gate") == 1


def test_a_camera_over_its_frames_in_progress_gets_503_marked_as_back_pressure_and_counted_dropped():
    ingress, dep = bare_ingress(max_inflight_per_camera=2), uuid.uuid4()

    async def run() -> HTTPException:
        async with ingress.camera_slot(dep, "cam-1"), ingress.camera_slot(dep, "cam-1"):
            assert ingress._inflight == {(dep, "cam-1"): 2}
            async with ingress.camera_slot(dep, "cam-2"):  # another camera is not held up
                pass
            with pytest.raises(HTTPException) as caught:
                async with ingress.camera_slot(dep, "cam-1"):
                    pass
        return caught.value

    refusal = asyncio.run(run())
    assert refusal.status_code == 503 and "cam-1 has 2 frames in progress" in refusal.detail
    assert refusal.headers == {"Retry-After": "1", BACKPRESSURE_HEADER: "1"}
    assert sample(ingress, "lfr_frames_dropped_total") == 1
    assert ingress.counters._pending[(dep, "cam-1")].dropped == 1 and (dep, "cam-2") not in ingress.counters._pending
    assert ingress._inflight == {} and sample(ingress, "lfr_frames_inflight") == 0  # every slot given back


def test_a_frame_that_fails_inside_its_slot_gives_the_slot_back():
    ingress, dep = bare_ingress(max_inflight_per_camera=1), uuid.uuid4()

    async def run() -> None:
        with pytest.raises(RuntimeError):
            async with ingress.camera_slot(dep, "cam-1"):
                raise RuntimeError("the pipeline failed")
        async with ingress.camera_slot(dep, "cam-1"):  # the camera's next frame gets its slot
            assert ingress._inflight == {(dep, "cam-1"): 1}

    asyncio.run(run())
    assert ingress._inflight == {}


class Handle:
    """A model deployment's handle as the ingress calls it (`handle.method.remote(...)`), counting the calls."""

    def __init__(self, identity: dict) -> None:
        self.identity, self.calls = identity, 0
        self.model_identity = self

    async def remote(self) -> dict:
        self.calls += 1
        return self.identity


@pytest.mark.parametrize("fused", [True, False])
def test_the_embedding_weights_come_from_a_fused_detector_without_waking_the_embedder(fused):
    detector = {"name": "yunet", "weights_sha256": "d" * 64} | ({"embedder": {"weights_sha256": "f" * 64}} if fused else {})
    ingress = bare_ingress()
    ingress.detector, ingress.embedder = Handle(detector), Handle({"name": "sface", "weights_sha256": "e" * 64})
    for _ in range(2):  # asked once, then kept
        assert asyncio.run(ingress._embedder_identity()) == ("f" if fused else "e") * 64
    assert (ingress.detector.calls, ingress.embedder.calls) == (1, 0 if fused else 1)
