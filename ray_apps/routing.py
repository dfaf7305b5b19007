"""Camera-affine routing to the ingress replicas: every frame of a camera reaches the replica that holds its
tracks.

A camera names itself in Serve's own routing header (`serve_multiplexed_model_id: <camera id>`, which `lfr
feed` sends on each POST and on its stream's handshake; a stream stays on the replica it opened on). The
router ranks the replicas by rendezvous hashing of that id: when a replica is added or lost, only the
cameras it held move, and they start fresh tracks there, their cooldowns seeded from the alert log (so a
person alerted a moment ago is not alerted again). A request without the header (people's routes) goes
anywhere, least loaded first as Serve's default does.
"""

from __future__ import annotations

import hashlib

from ray.serve.request_router import PendingRequest, RequestRouter, RunningReplica


def owner_rank(key: str, replica_ids: list[str]) -> list[str]:
    """Replica ids in the order that `key` prefers them (highest random weight first)."""
    return sorted(replica_ids, key=lambda r: hashlib.sha256(f"{key}\x1f{r}".encode()).digest(), reverse=True)


class CameraAffinityRouter(RequestRouter):
    async def choose_replicas(self, candidate_replicas: list[RunningReplica],
                              pending_request: PendingRequest | None = None) -> list[list[RunningReplica]]:
        camera = pending_request.metadata.multiplexed_model_id if pending_request is not None else ""
        if not camera or not candidate_replicas:
            return [candidate_replicas]
        by_id = {r.replica_id.unique_id: r for r in candidate_replicas}
        # Only the owner: a busy owner makes its camera wait (back-pressure per camera) rather than split its
        # tracks across replicas.
        return [[by_id[owner_rank(camera, list(by_id))[0]]]]
