"""How many model replicas the live service keeps around a deployment's window: the decision, in one place for
the DAG that asks at the window's edges (dags/lfr_deployment.py) and the Serve application that applies it
(ray_apps/scaling/: the Ray and KubeRay calls, run as `python -m ray_apps.scaling`).

At a window's start the detector and embedder keep at least `serve.max_replicas` replicas each, warmed by one
request, so the first frames do not wait for a replica to start; at its end they go back to
`serve.min_replicas`. Only the lower bound moves: the upper one is kept, or raised to the lower one, so the
autoscaler can still add replicas under load. The answer crosses a process boundary as one JSON line
(`Scaled`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from lfr_core.config import Settings
from lfr_core.live.wire import DETECTOR, MODEL_DEPLOYMENTS


class Edge(StrEnum):
    START = "start"
    END = "end"


@dataclass(frozen=True)
class ScaleRequest:
    """Keep at least `min_replicas` of each model deployment; `warm`: send each one request first."""

    min_replicas: int
    warm: bool

    def as_args(self) -> list[str]:
        """The request as the arguments of `python -m ray_apps.scaling`."""
        return [str(self.min_replicas), *(["--warm"] if self.warm else [])]


class Scaled(TypedDict):
    """What the scaling did: `serve` is "running" (the local Serve app), "rayservice" (Kubernetes), "not
    running" (no Serve app to scale) or "skipped: <why>"."""

    serve: str
    rayservice: NotRequired[str]
    min_replicas: NotRequired[int]
    max_replicas: NotRequired[dict[str, int]]
    warm_s: NotRequired[dict[str, float]]


def for_window(settings: Settings, edge: Edge) -> ScaleRequest:
    """What to ask for at a window's start or end."""
    if edge is Edge.START:
        return ScaleRequest(settings.serve.max_replicas, warm=True)
    return ScaleRequest(settings.serve.min_replicas, warm=False)


def model_deployments(app_args: Mapping[str, Any]) -> tuple[str, ...]:
    """The model deployments that keep replicas, as the application's args say: a fused detector embeds
    (`fused_detector`, ray_apps/options.py), so its app's embedder stays at zero replicas, neither raised nor
    warmed, and holds no share of a GPU."""
    return (DETECTOR,) if app_args.get("fused_detector") else MODEL_DEPLOYMENTS


def bounds(current: Mapping[str, Any], min_replicas: int) -> dict[str, int]:
    """A model deployment's new autoscaling bounds, from its current ones."""
    return {"min_replicas": min_replicas, "max_replicas": max(int(current.get("max_replicas", 1)), min_replicas)}
