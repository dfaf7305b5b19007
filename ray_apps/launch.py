"""`python -m ray_apps.launch`: the process `lfr services up --serve` supervises. It starts a private Ray
node with an explicit CPU count, deploys the application on 127.0.0.1, and on SIGTERM shuts Serve and
that node down (so `stop` leaves no process)."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import threading

# Serve's request path as its "throughput optimized" mode sets it (Ray docs, "Enable High Throughput"), less
# direct ingress (a further HTTP port per ingress replica; no gain without HAProxy, measured). Handle calls
# travel over the gRPC server every replica starts anyway (on all interfaces: behind Ray's token auth where
# it is on, as here, and in Kubernetes behind the Ray-internal network policy) instead of as Ray actor
# tasks; user code and the router run on the replica's event loop (the model replicas hand inference to a
# thread). bench/live.py: Serve's CPU per frame at 2 feeds 63 -> 51 ms. gRPC's default 4 MiB message cap is
# below the largest frame the ingress accepts (serve.max_body_bytes, at most 200 MB), so it is raised to
# 256 MiB (a cap, not an allocation). Serve's controller reconciles every 0.5 s instead of 0.1 s: each round
# asks the GCS for every node's resources, which cost ~2.4 ms of controller and ~0.7 ms of GCS CPU per frame
# at 16 frames/s on 2 cores (bench/live.py); autoscaling decides over seconds and health checks every 10 s,
# so nothing waits on the shorter round. Read by Ray at import: set before Ray starts; workers inherit it.
SERVE_FAST_PATH_ENV = {
    "RAY_SERVE_USE_GRPC_BY_DEFAULT": "1",
    "RAY_SERVE_REPLICA_GRPC_MAX_MESSAGE_LENGTH": str(256 * 2**20),
    "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0",
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "0",
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
}


def use_serve_fast_path() -> None:
    for name, value in SERVE_FAST_PATH_ENV.items():
        os.environ.setdefault(name, value)


def use_private_token() -> None:
    """Token auth with a token of our own under LFR_HOME (not ~/.ray, shared with other clusters)."""
    path = os.environ.get("LFR_SERVE_RAY_TOKEN_FILE")
    if not path:
        return
    if not os.path.exists(path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    os.environ["RAY_AUTH_MODE"] = "token"
    os.environ["RAY_AUTH_TOKEN_PATH"] = path
    os.environ.pop("RAY_AUTH_TOKEN", None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--num-cpus", type=float, default=2)
    parser.add_argument("--args", default="{}", help="JSON overrides for ray_apps.app.build_app")
    opts = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    use_private_token()  # before Ray is imported: it reads RAY_AUTH_* once
    use_serve_fast_path()
    import ray
    from ray import serve

    from ray_apps.app import run

    context = ray.init(num_cpus=opts.num_cpus, include_dashboard=False)
    address_file = os.environ.get("LFR_SERVE_RAY_ADDRESS_FILE")
    if address_file:  # ray_apps/scaling/prescale.py connects to this node, never to whichever cluster is newest
        with open(address_file, "w") as f:
            f.write(context.address_info["address"])
    try:
        run(json.loads(opts.args), host=opts.host, port=opts.port)
        print(f"lfr serve ready on http://{opts.host}:{opts.port}", flush=True)
        stop.wait()
    finally:
        serve.shutdown()
        ray.shutdown()


if __name__ == "__main__":
    main()
