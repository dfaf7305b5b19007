"""Per-camera counters (ray_apps/ingress/counters.py), without Ray or PostgreSQL: what a flush writes per camera, that
numbers survive a flush that fails, and that the timer flushes without traffic. The database is a function
that runs the flush's writer on a stand-in connection; `alerts.record_counts` is recorded, not run."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest

from lfr_core.alerts.model import FaceBands
from ray_apps.ingress import counters
from ray_apps.ingress.counters import Counters

NORTH, SOUTH = uuid.uuid4(), uuid.uuid4()


class Db:
    """Runs `fn(conn)` as the ingress's connection would; `down` makes it fail as an outage does."""

    def __init__(self) -> None:
        self.conn = object()
        self.down: Exception | None = None
        self.runs = 0

    async def __call__(self, fn, *args):
        self.runs += 1
        if self.down is not None:
            raise self.down
        return fn(self.conn, *args)


bands_written: list[tuple] = []
not_sent_written: list[tuple] = []


@pytest.fixture()
def written(monkeypatch) -> list[tuple]:
    rows: list[tuple] = []
    bands_written.clear()
    not_sent_written.clear()

    def record_counts(conn, deployment_id, camera_id, *, frames, faces_seen, frames_refused, frames_dropped, bands,
                      reliable_face_px, frames_not_sent=0):
        not_sent_written.append((deployment_id, camera_id, frames_not_sent))
        rows.append((deployment_id, camera_id, frames, faces_seen, frames_refused, frames_dropped))
        bands_written.append((deployment_id, camera_id, bands, reliable_face_px))

    monkeypatch.setattr(counters.alerts, "record_counts", record_counts)
    return rows


def test_a_flush_writes_each_camera_once_with_its_sums(written):
    db = Db()
    c = Counters(db, flush_every_s=60)
    c.count(NORTH, "cam-1", frames=1, faces=2)
    c.count(NORTH, "cam-1", frames=1, faces=3, refused=1)
    c.count(NORTH, "cam-2", dropped=1)
    c.count(SOUTH, "cam-1", frames=1)
    assert asyncio.run(c.flush()) == 3
    assert sorted(written, key=str) == sorted([(NORTH, "cam-1", 2, 5, 1, 0), (NORTH, "cam-2", 0, 0, 0, 1),
                                               (SOUTH, "cam-1", 1, 0, 0, 0)], key=str)
    assert db.runs == 1  # one transaction for every camera


def test_a_flush_with_nothing_counted_asks_nothing_of_the_database(written):
    db = Db()
    c = Counters(db, flush_every_s=60)
    assert asyncio.run(c.flush()) == 0
    c.count(NORTH, "cam-1", frames=1)
    asyncio.run(c.flush())
    assert asyncio.run(c.flush()) == 0  # what was written is not written again
    assert db.runs == 1 and len(written) == 1


@pytest.mark.parametrize("outage", [psycopg.OperationalError("server closed the connection"),
                                    ConnectionRefusedError("connection refused")])
def test_numbers_of_a_failed_flush_are_kept_and_written_with_the_next(written, outage):
    db = Db()
    c = Counters(db, flush_every_s=60)
    c.count(NORTH, "cam-1", frames=2, faces=1)
    db.down = outage
    assert asyncio.run(c.flush()) == 0
    assert written == []
    c.count(NORTH, "cam-1", frames=1, dropped=1)  # counted while the database was down
    db.down = None
    assert asyncio.run(c.flush()) == 1
    assert written == [(NORTH, "cam-1", 3, 1, 0, 1)]


def test_an_error_that_is_no_outage_is_not_taken_for_one(written):
    db = Db()
    c = Counters(db, flush_every_s=60)
    c.count(NORTH, "cam-1", frames=1)
    db.down = TypeError("a bug in the writer")
    with pytest.raises(TypeError):
        asyncio.run(c.flush())


def test_the_timer_flushes_the_last_frames_though_no_frame_follows(written):
    async def run() -> None:
        c = Counters(Db(), flush_every_s=0.01)
        c.count(NORTH, "cam-1", frames=1, faces=1)
        task = asyncio.create_task(c.run_forever())
        for _ in range(200):
            if written:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert written == [(NORTH, "cam-1", 1, 1, 0, 0)]


def test_a_flush_writes_each_camera_s_size_bands_summed_and_the_latest_reliable_size(written):
    c = Counters(Db(), flush_every_s=60)
    c.count(NORTH, "cam-1", frames=1, faces=3, bands=FaceBands(1, 0, 1, 1), reliable_face_px=32)
    c.count(NORTH, "cam-1", frames=1, faces=2, bands=FaceBands(0, 1, 0, 1), reliable_face_px=48)
    c.count(NORTH, "cam-1", dropped=1)  # no frame counted: the reliable size stays
    c.count(NORTH, "cam-2", frames=1)
    assert asyncio.run(c.flush()) == 2
    assert sorted(bands_written, key=str) == sorted([(NORTH, "cam-1", FaceBands(1, 1, 1, 2), 48),
                                                     (NORTH, "cam-2", FaceBands(), None)], key=str)


def test_a_flush_writes_the_frames_each_camera_did_not_send(written):
    c = Counters(Db(), flush_every_s=60)
    c.count(NORTH, "cam-1", not_sent=5)
    c.count(NORTH, "cam-1", frames=1, not_sent=8)
    asyncio.run(c.flush())
    assert not_sent_written == [(NORTH, "cam-1", 13)]
