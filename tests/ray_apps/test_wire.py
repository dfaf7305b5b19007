"""One owner per name and setting of the live service (issue 26 item 4): lfr_core/live/wire.py names the app, its
deployments, the camera's headers and the stream's framing, and the settings choose the batch size; the files
that must spell them out for other tools (the Serve config, the Terraform module) say the same."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from lfr_core.config import ServeSettings, Settings
from lfr_core.live import wire
from ray_apps.options import BATCH_DEFAULTS, AppOptions, BatchConfig

ROOT = Path(__file__).resolve().parents[2]


def test_the_serve_config_names_what_the_wire_names() -> None:
    config = yaml.safe_load((ROOT / "ray_apps" / "serve_config.yaml").read_text())
    (app,) = config["applications"]
    assert app["name"] == wire.APP_NAME
    assert [d["name"] for d in app["deployments"]] == [wire.DETECTOR, wire.EMBEDDER, wire.INGRESS]


def test_the_serve_config_batches_as_the_settings_choose() -> None:
    config = yaml.safe_load((ROOT / "ray_apps" / "serve_config.yaml").read_text())
    batched = {d["name"]: d["user_config"] for d in config["applications"][0]["deployments"] if "user_config" in d}
    assert batched == dict.fromkeys(wire.MODEL_DEPLOYMENTS, BATCH_DEFAULTS)
    serve = ServeSettings()
    assert {"max_batch_size": serve.batch_size, "batch_wait_timeout_s": serve.batch_wait_s} == BATCH_DEFAULTS


def test_the_terraform_module_names_what_the_wire_names() -> None:
    ray_tf = (ROOT / "infra" / "terraform" / "ray.tf").read_text()
    app = re.search(r'applications = \[\{\s*name\s*=\s*"([^"]+)"', ray_tf)
    models = re.search(r"for name in \[([^\]]+)\]", ray_tf)
    assert app is not None and models is not None
    assert app.group(1) == wire.APP_NAME
    assert models.group(1) == ", ".join(f'"{name}"' for name in wire.MODEL_DEPLOYMENTS)
    assert f'name = "{wire.INGRESS}"' in ray_tf


def test_the_settings_reach_the_deployments_batch() -> None:
    """A batch size set in the settings is the one the model deployments get (no second default wins)."""
    tuned = AppOptions.from_settings(Settings(serve=ServeSettings(batch_size=4, batch_wait_s=0.02)))
    for model in (tuned.detector, tuned.embedder):
        assert model.deployment_options()["user_config"] == {"max_batch_size": 4, "batch_wait_timeout_s": 0.02}
    assert AppOptions.from_settings(Settings()).detector.batch == BatchConfig()


def test_a_fused_detector_leaves_the_embedder_without_replicas_and_says_so_in_the_args() -> None:
    """vision.fused_detector (on by default for cuda with yunet + sface): the app's args carry it, where
    pre-scaling reads it, and the embedder deployment starts with no replica."""
    from lfr_core.config import VisionSettings
    from lfr_core.live.scaling import model_deployments
    from ray_apps.app import app_config

    fused = Settings(vision=VisionSettings(device="cuda"), serve=ServeSettings(min_replicas=2, max_replicas=3))
    options = AppOptions.from_settings(fused)
    assert options.fused_detector and (options.detector.min_replicas, options.embedder.min_replicas) == (2, 0)
    assert options.embedder.max_replicas == 3  # a detector that sends crops after all still finds one
    assert AppOptions.from_settings(fused, overrides={"fused_detector": False}).embedder.min_replicas == 2
    assert not AppOptions.from_settings(Settings()).fused_detector
    config = app_config()  # this machine's settings: CPU, unfused
    assert config["args"] == {"fused_detector": False}
    assert model_deployments(config["args"]) == wire.MODEL_DEPLOYMENTS
    assert model_deployments({"fused_detector": True}) == (wire.DETECTOR,)


def test_the_builder_names_the_app_and_its_deployments_as_the_wire() -> None:
    from ray_apps.app import app_config

    config = app_config()
    assert config["name"] == wire.APP_NAME
    assert [d["name"] for d in config["deployments"]] == [wire.DETECTOR, wire.EMBEDDER, wire.INGRESS]


def test_the_stream_frame_is_read_as_the_feed_writes_it() -> None:
    from ray_apps.ingress.frames import split_streamed

    when, image = split_streamed(wire.STREAM_TIME.pack(1_765_000_000.25) + b"\xff\xd8jpeg")
    assert (when, image) == ("1765000000.25", b"\xff\xd8jpeg")
