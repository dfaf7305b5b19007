"""Driver steps of the two-node test (tests/ray_apps/test_sharding.py), each in a fresh process: Ray reads its
token settings (RAY_AUTH_*) once, at import, and the test process imported Ray long before.

`python -m tests.ray_apps.cluster_ops deploy HTTP_PORT ARGS_JSON | replicas | kill REPLICA_ID`; the cluster's
address is RAY_ADDRESS. Prints one JSON line."""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> dict:
    import ray

    ray.init(log_to_driver=False)
    from ray.serve.context import _get_global_client

    if argv[0] == "deploy":
        from ray_apps.app import run

        run(json.loads(argv[2]), host="127.0.0.1", port=int(argv[1]))
        return {"nodes": len([n for n in ray.nodes() if n["Alive"]])}
    if argv[0] == "replicas":
        app = _get_global_client().get_serve_details()["applications"]["lfr"]
        return {r["replica_id"]: r["node_id"] for r in app["deployments"]["Ingress"]["replicas"]
                if r["state"] == "RUNNING"}
    if argv[0] == "kill":
        actor = next(a for a in ray.util.list_named_actors(all_namespaces=True) if argv[1] in a["name"])
        ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]), no_restart=True)
        return {"killed": actor["name"]}
    raise SystemExit(f"unknown step {argv[0]!r}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
