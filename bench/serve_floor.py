"""Serve's own cost with no model behind it: an echo app of the live path's shape (HTTP proxy -> FastAPI
ingress -> a "detector" and an "embedder" with two replicas, each answering at once), on a private 2-CPU
Ray node with the Serve fast path. The floor under `bench/live.py`'s overhead: what the proxy, the ingress
replica and two handle calls cost a frame, and Ray's upkeep with nothing in flight.

Run: `python bench/serve_floor.py [--quick]` (about a minute; --quick: 40 requests each way, 2 s idle).
Prints CPU ms a request by process over HTTP (one request at a time) and over one WebSocket at ~10 frames/s,
then CPU ms a second with nothing in flight; last line: JSON.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import httpx
import numpy as np
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect  # module level: FastAPI resolves the

# routes' (postponed) annotations in this module's globals

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUICK = "--quick" in sys.argv  # a check that the bench runs (seconds past Ray's start), not a figure
REQUESTS = 40 if QUICK else 400
WARM_UP = 10 if QUICK else 50
IDLE_S = 2 if QUICK else 10
BODY = bytes(40_000)  # the size of a 640x360 JPEG; the echo never decodes it


def build():
    from ray import serve

    app = FastAPI()
    small = {"num_cpus": 0.1}

    @serve.deployment(name="Detector", ray_actor_options=small)
    class Detector:
        async def __call__(self, body: bytes) -> list[np.ndarray]:
            return [np.zeros((112, 112, 3), np.uint8)] * 2  # two aligned crops, as a frame with two faces

    @serve.deployment(name="Embedder", num_replicas=2, ray_actor_options=small)
    class Embedder:
        async def __call__(self, crops: np.ndarray) -> np.ndarray:
            return np.zeros((len(crops), 128), np.float32)

    @serve.deployment(name="Ingress", ray_actor_options=small)
    @serve.ingress(app)
    class Ingress:
        def __init__(self, detector, embedder) -> None:
            self.detector, self.embedder = detector, embedder

        async def frame(self, body: bytes) -> dict:
            crops = await self.detector.remote(body)
            return {"faces": len(await self.embedder.remote(np.stack(crops)))}

        @app.post("/frames")
        async def post(self, request: Request) -> dict:
            return await self.frame(await request.body())

        @app.websocket("/stream")
        async def stream(self, ws: WebSocket) -> None:
            await ws.accept()
            while True:
                try:
                    body = await ws.receive_bytes()
                except WebSocketDisconnect:
                    return
                await ws.send_json(await self.frame(body))

    return Ingress.bind(Detector.bind(), Embedder.bind())


def main() -> None:
    from ray_apps.launch import use_serve_fast_path

    use_serve_fast_path()
    import ray
    from ray import serve
    from websockets.sync.client import connect

    from bench.live import CLIENT, cpu_ms_each, cpu_seconds_by_role, idle_cpu_ms_per_s
    from lfr_ops.bench_env import free_port

    port, nowhere = free_port(), Path("/nonexistent")  # no PostgreSQL of ours to count
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build(), logging_config={"enable_access_log": False})
    out: dict[str, dict[str, float]] = {}
    try:
        with httpx.Client() as client:
            for _ in range(WARM_UP):
                client.post(f"http://127.0.0.1:{port}/frames", content=BODY)
            before = cpu_seconds_by_role(nowhere)
            for _ in range(REQUESTS):
                client.post(f"http://127.0.0.1:{port}/frames", content=BODY)
            out["http"] = cpu_ms_each(before, cpu_seconds_by_role(nowhere), REQUESTS)
        with connect(f"ws://127.0.0.1:{port}/stream") as ws:
            for _ in range(WARM_UP):
                ws.send(BODY)
                ws.recv()
            before = cpu_seconds_by_role(nowhere)
            for _ in range(REQUESTS):
                ws.send(BODY)
                ws.recv()
                time.sleep(0.1)
            out["stream"] = cpu_ms_each(before, cpu_seconds_by_role(nowhere), REQUESTS)
        time.sleep(1)
        out["idle_ms_per_s"] = idle_cpu_ms_per_s(nowhere, IDLE_S)
    finally:
        serve.shutdown()
        ray.shutdown()
    for name, by_role in out.items():
        serving = sum(ms for r, ms in by_role.items() if r != CLIENT)
        print(f"{name}: {serving:.1f} CPU ms outside the client (" + ", ".join(
            f"{r} {ms:.1f}" for r, ms in sorted(by_role.items(), key=lambda kv: -kv[1]) if ms >= 0.05) + ")")
    print(json.dumps({name: {r: round(ms, 2) for r, ms in sorted(by_role.items())} for name, by_role in out.items()}))


if __name__ == "__main__":
    main()
