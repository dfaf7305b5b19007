"""One ingress replica, the Serve deployment behind the FastAPI app (ray_apps/ingress/app.py): it holds the
replica's connection to PostgreSQL and builds the context its route groups share (ray_apps/ingress/context.py).
It authenticates, routes and scales; the behaviour is in lfr_core.

The ingress scales like the models behind it: every frame of a camera reaches the replica that holds its
tracks (ray_apps/ingress/routing.py), and a camera new to a replica starts with its cooldowns from the alert log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from ray import serve
from ray.serve.handle import DeploymentHandle

from lfr_core.config import get_settings
from lfr_core.db.connection import connect
from lfr_core.live.wire import INGRESS
from lfr_core.storage.objectstore import ObjectStore
from ray_apps.ingress.access import Access
from ray_apps.ingress.app import app
from ray_apps.ingress.context import IngressContext
from ray_apps.ingress.counters import Counters
from ray_apps.ingress.live import LivePath
from ray_apps.ingress.metrics import Metrics
from ray_apps.options import AppOptions

log = logging.getLogger("ray.serve")


@serve.deployment(name=INGRESS)
@serve.ingress(app)
class Ingress:
    def __init__(self, detector: DeploymentHandle, embedder: DeploymentHandle,
                 options: dict[str, Any] | None = None) -> None:
        settings = get_settings()
        opts = AppOptions.model_validate(options or {})
        self._conn: psycopg.Connection | None = None
        self._db_lock = threading.Lock()
        store = ObjectStore(settings)
        metrics = Metrics()
        counters = Counters(self._db, opts.counters_flush_s)
        live = LivePath(settings, opts, detector=detector, embedder=embedder, store=store, db=self._db,
                        metrics=metrics, counters=counters, replica_id=serve.get_replica_context().replica_id.unique_id)
        self.context = IngressContext(settings=settings, options=opts, db=self._db, store=store,
                                      access=Access(settings, self._db, opts.auth_cache_s), metrics=metrics,
                                      counters=counters, live=live)
        with contextlib.suppress(RuntimeError):  # Serve runs the constructor in the replica's event loop
            live.start_background()  # now, so that a new replica moves held crops before any frame comes
        log.info("ingress ready (at most %d frames in flight per camera)", opts.max_inflight_per_camera)

    # One connection per replica, used from worker threads under a lock.

    def _with_conn(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._db_lock:
            for attempt in (1, 2):
                if self._conn is None or self._conn.closed:
                    self._conn = connect(self.context.settings)
                try:
                    return fn(self._conn, *args, **kwargs)
                except psycopg.OperationalError:
                    self._conn = None  # reconnect once; a second failure is an outage (503)
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    async def _db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._with_conn, fn, *args, **kwargs)
