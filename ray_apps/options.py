"""Validated options for the application's deployments (pydantic, checked before anything is deployed)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lfr_core.config import ServeSettings, Settings, get_settings


class BatchTunable:
    """`reconfigure` and `batch_config` for a deployment whose batched method is named in `batched_method`:
    Serve calls `reconfigure(user_config)` on deploy and on every live change of the user_config."""

    batched_method: str

    def reconfigure(self, config: dict[str, Any]) -> None:
        batch = BatchConfig.model_validate(config or {})
        method = getattr(self, self.batched_method)
        method.set_max_batch_size(batch.max_batch_size)
        method.set_batch_wait_timeout_s(batch.batch_wait_timeout_s)

    def batch_config(self) -> dict[str, Any]:
        method = getattr(self, self.batched_method)
        return {"max_batch_size": method._get_max_batch_size(),
                "batch_wait_timeout_s": method._get_batch_wait_timeout_s()}


class BatchConfig(BaseModel):
    """The `user_config` of the batched deployments: changed live through `reconfigure`. Its defaults are the
    settings' (`serve.batch_size`, `serve.batch_wait_s`), the one place a batch size is chosen."""

    max_batch_size: int = Field(ServeSettings.model_fields["batch_size"].default, ge=1, le=256)
    batch_wait_timeout_s: float = Field(ServeSettings.model_fields["batch_wait_s"].default, ge=0.0, le=1.0)


# The batched methods' decorator arguments, before the first `reconfigure` sets those of the deployment's
# options (ray_apps/app.py always passes them as the user_config).
BATCH_DEFAULTS: dict[str, Any] = BatchConfig().model_dump()


class ModelDeploymentOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt option must fail the deploy, not vanish

    min_replicas: int = Field(1, ge=0, le=512)
    max_replicas: int = Field(2, ge=1, le=512)  # 200 cameras need ~120 embedder replicas (bench/capacity.py)
    initial_replicas: int | None = Field(None, ge=0, le=512)
    target_ongoing_requests: float = Field(4.0, gt=0)
    max_ongoing_requests: int = Field(16, ge=1, le=1024)
    num_cpus: float = Field(0.4, gt=0, le=64, description="CPUs per replica; small so that 2 cores hold 2+2+1")
    num_gpus: float = Field(0.0, ge=0, le=8, description="GPUs per replica; above 0 it runs only where Ray has GPUs")
    batch: BatchConfig = BatchConfig()

    @model_validator(mode="after")
    def check(self) -> ModelDeploymentOptions:
        if self.max_replicas < self.min_replicas:
            raise ValueError("max_replicas must be >= min_replicas")
        if self.max_ongoing_requests < self.batch.max_batch_size:
            raise ValueError("max_ongoing_requests must be >= max_batch_size, or batches never fill")
        return self

    def deployment_options(self) -> dict[str, Any]:
        autoscaling = {
            "min_replicas": self.min_replicas,
            "max_replicas": self.max_replicas,
            "target_ongoing_requests": self.target_ongoing_requests,
            "upscale_delay_s": 2.0,
            "downscale_delay_s": 60.0,
        }
        if self.initial_replicas is not None:
            autoscaling["initial_replicas"] = self.initial_replicas
        return {
            "autoscaling_config": autoscaling,
            "max_ongoing_requests": self.max_ongoing_requests,
            "ray_actor_options": {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus},
            "user_config": self.batch.model_dump(),
        }


class AppOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    detector: ModelDeploymentOptions = ModelDeploymentOptions()
    embedder: ModelDeploymentOptions = ModelDeploymentOptions()
    ingress_num_cpus: float = Field(0.2, gt=0, le=64)
    ingress_min_replicas: int = Field(1, ge=1, le=512, description="Ingress replicas; cameras are spread over them "
                                                                   "by camera id (ray_apps/ingress/routing.py)")
    ingress_max_replicas: int = Field(1, ge=1, le=512)
    ingress_target_ongoing_requests: float = Field(8.0, gt=0, description="Autoscaling target per ingress replica")
    ingress_max_replicas_per_node: int | None = Field(None, ge=1, le=64, description="Spread the ingress over "
                                                                                     "nodes (unset: Serve places it)")
    ingress_max_ongoing_requests: int = Field(64, ge=1, le=10_000)
    max_inflight_per_camera: int = Field(
        4, ge=1, le=1000, description="A camera's frames in progress before its next one gets 503: back-pressure per "
                                      "camera, so one fast camera cannot starve the others")
    model_timeout_s: float = Field(10.0, gt=0, le=300, description="A detector or embedder call that takes longer "
                                                                   "fails its frame (503) instead of stalling it")
    held_crops_retry_s: float = Field(2.0, gt=0, le=600, description="Move probe crops of alerts raised while the "
                                                                    "object store was down (held in PostgreSQL) to "
                                                                    "the store this often")
    version_check_s: float = Field(2.0, gt=0, le=600, description="Re-read each deployment's active version this often")
    counters_flush_s: float = Field(5.0, gt=0, le=600, description="Flush per-camera counters this often")
    auth_cache_s: float = Field(10.0, ge=0, le=600, description="Cache API key lookups this long")
    embed_reuse_s: float = Field(
        0.4, ge=0, le=5.0,
        description="A face that clearly continues a settled track (clear miss, or already decided) embedded "
                    "less than this long ago is not embedded again; it never counts as a hit. 0: embed every face")
    embed_split: int = Field(
        2, ge=1, le=64, description="A frame with more than `embed_split_above` faces to embed goes to the embedder "
                                    "in this many requests (the replica count), so the replicas share a crowded "
                                    "frame instead of one embedding it all while the other idles")
    embed_split_above: int = Field(4, ge=1, le=1024, description="See embed_split; each request costs a hop")
    fused_detector: bool = Field(
        False, description="The detector replicas embed as well (vision.fused_detector; from settings unless given): "
                           "the embedder deployment keeps no replica, and pre-scaling neither raises nor warms it")
    embed_reuse_margin: float = Field(
        0.1, ge=0, le=2.0, description="A clear miss: top-1 score below the version's threshold minus this")

    @model_validator(mode="after")
    def check_ingress(self) -> AppOptions:
        if self.ingress_max_replicas < self.ingress_min_replicas:
            raise ValueError("ingress_max_replicas must be >= ingress_min_replicas")
        return self

    def ingress_autoscaling(self) -> dict[str, Any]:
        return {"min_replicas": self.ingress_min_replicas, "max_replicas": self.ingress_max_replicas,
                "target_ongoing_requests": self.ingress_target_ongoing_requests,
                "upscale_delay_s": 10.0, "downscale_delay_s": 300.0}

    @classmethod
    def from_settings(cls, settings: Settings | None = None, overrides: dict[str, Any] | None = None) -> AppOptions:
        settings = settings or get_settings()
        s = settings.serve
        model = {"min_replicas": s.min_replicas, "max_replicas": max(s.max_replicas, s.min_replicas),
                 "batch": {"max_batch_size": s.batch_size, "batch_wait_timeout_s": s.batch_wait_s}}
        fused = bool((overrides or {}).get("fused_detector", settings.vision.runs_fused()))
        base: dict[str, Any] = {"detector": dict(model), "embedder": {**model, "min_replicas": 0} if fused else dict(model),
                                "fused_detector": fused}
        for key, value in (overrides or {}).items():
            if key in ("detector", "embedder") and isinstance(value, dict):
                base[key] = {**base[key], **value}
            else:
                base[key] = value
        return cls.model_validate(base)
