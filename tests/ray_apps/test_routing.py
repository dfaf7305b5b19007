"""The replicas' routers without Ray running: the model replicas' bookkeeping (`ray_apps.ingress.routing.InFlight`) and
the cameras' rendezvous ranking of the ingress replicas (`owner_rank`)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ray_apps.ingress.routing import InFlight, work_of


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_requests_routed_together_go_to_different_replicas():
    """The two halves of a crowded frame: the second sees the first's reservation, not a stale figure."""
    books, first, second = InFlight(), object(), object()
    assert books.reserve(first, 5, ["a", "b"])[0] == "a"
    assert books.reserve(second, 4, ["a", "b"])[0] == "b"
    assert (books.busy("a"), books.busy("b")) == (5, 4)


def test_work_is_counted_in_faces_not_requests():
    books = InFlight()
    books.routed(object(), 6, "frame-1", "a")
    books.routed(object(), 1, "frame-2", "b")
    books.routed(object(), 1, "frame-3", "b")
    assert books.reserve(object(), 3, ["a", "b"])[0] == "b"  # two requests, but 2 faces against 6
    books.completed("frame-1", "a")
    assert books.reserve(object(), 3, ["a", "b"])[0] == "a"


def test_a_request_taken_by_another_replica_moves_and_completion_releases_it():
    books, request = InFlight(), object()
    books.reserve(request, 5, ["a", "b"])
    books.routed(request, 5, "frame-1", "b")  # "a" was full: Serve gave it to "b"
    assert (books.busy("a"), books.busy("b")) == (0, 5)
    books.completed("frame-1", "a")  # a call "a" refused: it never ran there
    assert (books.busy("a"), books.busy("b")) == (0, 5)
    books.completed("frame-1", "b")
    assert books.busy("b") == 0


def test_calls_of_one_frame_share_its_request_id_and_are_released_one_by_one():
    books = InFlight()
    books.routed(object(), 5, "frame-1", "a")
    books.routed(object(), 4, "frame-1", "a")
    books.completed("frame-1", "a")
    assert books.busy("a") == 4
    books.completed("frame-1", "a")
    books.completed("frame-1", "a")  # reported once more: nothing left to take back
    assert books.busy("a") == 0


def test_asking_again_moves_a_reservation_and_a_forgotten_one_lapses():
    clock = Clock()
    books, request = InFlight(stale_s=30, clock=clock), object()
    books.reserve(request, 3, ["a", "b"])
    books.reserve(request, 3, ["b"])  # asked again, "a" being full
    assert (books.busy("a"), books.busy("b")) == (0, 3)
    clock.now = 31.0  # cancelled while waiting: never routed, never completed
    assert books.reserve(object(), 1, ["a", "b"])[0] == "a"
    assert books.busy("b") == 0


def test_work_of_a_request_is_its_crops_or_one():
    assert work_of(SimpleNamespace(args=[np.zeros((7, 112, 112, 3), np.uint8)])) == 7
    assert work_of(SimpleNamespace(args=[np.zeros((0, 112, 112, 3), np.uint8)])) == 1
    assert work_of(SimpleNamespace(args=[b"\xff\xd8 a JPEG frame"])) == 1
    assert work_of(SimpleNamespace(args=[])) == 1


def test_cameras_keep_their_replica_and_only_a_lost_replicas_cameras_move():
    from ray_apps.ingress.routing import owner_rank

    replicas = ["r1", "r2", "r3"]
    cameras = [f"cam-{i}" for i in range(60)]
    owner = {c: owner_rank(c, replicas)[0] for c in cameras}
    assert set(owner.values()) == set(replicas)  # spread
    assert owner == {c: owner_rank(c, list(reversed(replicas)))[0] for c in cameras}  # order does not matter
    after = {c: owner_rank(c, ["r1", "r3"])[0] for c in cameras}
    assert {c for c in cameras if after[c] != owner[c]} == {c for c in cameras if owner[c] == "r2"}
