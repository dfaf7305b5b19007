"""Request routers. Camera-affine routing to the ingress replicas: every frame of a camera reaches the replica
that holds its tracks. Least-busy routing to the model replicas.

A camera names itself in Serve's own routing header (`serve_multiplexed_model_id: <camera id>`, which `lfr
feed` sends on each POST and on its stream's handshake; a stream stays on the replica it opened on). The
router ranks the replicas by rendezvous hashing of that id: when a replica is added or lost, only the
cameras it held move, and they start fresh tracks there, their cooldowns seeded from the alert log (so a
person alerted a moment ago is not alerted again). A request without the header (people's routes) goes
anywhere, least loaded first as Serve's default does.

Model replicas: Serve's default router compares two replicas' queue lengths as last cached, and counts a
request in only once it is sent, so requests routed together see the same figures. The two halves of a
crowded frame went to the same embedder replica in 57 of 80 frames at 2 cameras x 5 fps, the second half
waiting behind the first. `LeastBusyRouter` counts a request's work (its faces) against its replica the
moment it chooses it, and sends the next to the replica with the least work in progress.
It fulfils pending requests first come, first served (`FIFOMixin`): every model call made while handling
one frame carries that frame's internal request id, and Serve's match-by-id fulfilment loops without end
when two such calls wait at once.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
from ray.serve.request_router import FIFOMixin, PendingRequest, RequestRouter, RunningReplica


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


class InFlight:
    """Work in progress per replica (a router's bookkeeping, apart from Serve), in units a request declares
    (faces for the embedder): reserved when a replica is chosen for it, running once a replica accepted it,
    until it completes. A reservation whose request never went out (cancelled while waiting) lapses after
    `stale_s`."""

    def __init__(self, stale_s: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stale_s, self.clock = stale_s, clock
        self._reserved: dict[int, tuple[str, int, float]] = {}  # id(pending request) -> (replica, work, when)
        self._running: dict[tuple[str, str], list[int]] = {}  # (replica, request id) -> work of each call
        self._busy: Counter[str] = Counter()  # replica -> work reserved and running

    def busy(self, replica_id: str) -> int:
        return self._busy[replica_id]

    def reserve(self, request: object, work: int, replica_ids: list[str],
                load: Callable[[str], int] = lambda r: 0) -> list[str]:
        """The replicas, least busy first (then by `load`, then by id), `request` reserved on the first.
        Reserving a request again (Serve asks again when its choice was full) moves it."""
        self._unreserve(id(request))
        self._lapse()
        ranked = sorted(replica_ids, key=lambda r: (self._busy[r], load(r), r))
        if ranked:
            self._reserved[id(request)] = (ranked[0], work, self.clock())
            self._busy[ranked[0]] += work
        return ranked

    def routed(self, request: object, work: int, request_id: str, replica_id: str) -> None:
        """`request` was accepted by `replica_id` (not always the one reserved: any free replica may take it)."""
        self._unreserve(id(request))
        self._running.setdefault((replica_id, request_id), []).append(work)
        self._busy[replica_id] += work

    def completed(self, request_id: str, replica_id: str) -> None:
        """A call of `request_id` on `replica_id` ended. Also reported for a call the replica refused, which
        never ran (nothing to take back then). Calls made for one frame share its request id."""
        calls = self._running.get((replica_id, request_id))
        if calls:
            self._busy[replica_id] -= calls.pop(0)
            if not calls:
                del self._running[replica_id, request_id]

    def _unreserve(self, key: int) -> None:
        replica_id, work, _ = self._reserved.pop(key, (None, 0, 0.0))
        if replica_id is not None:
            self._busy[replica_id] -= work

    def _lapse(self) -> None:
        cutoff = self.clock() - self.stale_s
        for key in [k for k, (_, _, at) in self._reserved.items() if at < cutoff]:
            self._unreserve(key)


def work_of(request: PendingRequest) -> int:
    """A request's work: the items of an array argument (the embedder's crops), else 1 (a detector frame)."""
    first = request.args[0] if request.args else None
    return max(1, len(first)) if isinstance(first, np.ndarray) and first.ndim > 0 else 1


class LeastBusyRouter(FIFOMixin, RequestRouter):
    def initialize_state(self, **kwargs) -> None:
        self.in_flight = InFlight()

    async def choose_replicas(self, candidate_replicas: list[RunningReplica],
                              pending_request: PendingRequest | None = None) -> list[list[RunningReplica]]:
        if pending_request is None or not candidate_replicas:
            return [candidate_replicas]
        by_id = {r.replica_id.unique_id: r for r in candidate_replicas}
        cached = self.replica_queue_len_cache  # other callers' requests too, as last reported
        ranked = self.in_flight.reserve(pending_request, work_of(pending_request), list(by_id),
                                        lambda r: cached.get(by_id[r].replica_id) or 0)
        return [[by_id[r]] for r in ranked]

    def on_request_routed(self, pending_request: PendingRequest, replica_id, result) -> None:
        self.in_flight.routed(pending_request, work_of(pending_request),
                              pending_request.metadata.internal_request_id, replica_id.unique_id)

    def on_request_completed(self, replica_id, internal_request_id: str) -> None:
        self.in_flight.completed(internal_request_id, replica_id.unique_id)
